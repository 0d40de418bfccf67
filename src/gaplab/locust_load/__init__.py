"""The scenario's virtual users on Locust (`lab run --load locust`), for traffic past what
one machine's built-in load generator can send.

Locust is an optional extra (`pip install 'gaplab[locust]'`). Its gevent monkeypatches the
process that imports it, so nothing in the lab's own (asyncio) process imports `locust`:
the lab starts Locust's processes (`gaplab.locust_load.process`), which import
`gaplab.locust_load.user`, and reads their outcomes back over a socket
(`gaplab.locust_load.channel`). Modules here that the lab imports never import `locust`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gaplab.errors import InputError

if TYPE_CHECKING:
    from gaplab.scenario.models import Scenario
    from gaplab.scenario.target_models import TargetFile

EXTRA = "gaplab[locust]"
# The modules that import Locust (and so gevent): only Locust's processes import them.
LOCUST_SIDE = frozenset(
    {
        "gaplab.locust_load.main",
        "gaplab.locust_load.user",
        "gaplab.locust_load.link",
        "gaplab.locust_load.exchange",
        "gaplab.locust_load.arrive",
    }
)
LOAD_ENGINES = ("builtin", "locust")


def require_locust(find: Callable[[str], Any] = importlib.util.find_spec) -> None:
    """Raise the `--load locust` error naming the extra when Locust is not installed. (A
    look-up, not an import: importing Locust would monkeypatch the lab's own process.)"""
    if find("locust") is None:
        raise InputError(
            f"--load locust: Locust is not installed; it is an optional extra: "
            f"pip install '{EXTRA}'"
        )


def check_locust_run(scenario: Scenario, target: TargetFile) -> None:
    """What `--load locust` needs before anything starts (exit 2): Locust installed. (It
    runs closed users and open arrivals, whole and streamed answers, as the built-in.)"""
    require_locust()
