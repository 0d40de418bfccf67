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
from typing import Any

from gaplab.errors import InputError

EXTRA = "gaplab[locust]"
LOAD_ENGINES = ("builtin", "locust")


def require_locust(find: Callable[[str], Any] = importlib.util.find_spec) -> None:
    """Raise the `--load locust` error naming the extra when Locust is not installed. (A
    look-up, not an import: importing Locust would monkeypatch the lab's own process.)"""
    if find("locust") is None:
        raise InputError(
            f"--load locust: Locust is not installed; it is an optional extra: "
            f"pip install '{EXTRA}'"
        )
