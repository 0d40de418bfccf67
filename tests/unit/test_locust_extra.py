"""Locust is an optional extra: without it `--load locust` is a clear error naming the
extra (exit 2); with or without it, the lab's own process never imports Locust (its gevent
monkeypatches whatever process imports it)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gaplab.errors import InputError
from gaplab.locust_load import EXTRA, require_locust


def test_without_locust_the_error_names_the_extra() -> None:
    with pytest.raises(InputError) as caught:
        require_locust(find=lambda name: None)
    assert str(caught.value) == (
        "--load locust: Locust is not installed; it is an optional extra: "
        "pip install 'gaplab[locust]'"
    )
    assert EXTRA == "gaplab[locust]"


def test_with_locust_installed_nothing_is_raised() -> None:
    require_locust(find=lambda name: object())


def test_the_lab_side_never_imports_locust_or_gevent() -> None:
    code = (
        "import sys, gaplab.cli, gaplab.engine.run, gaplab.locust_load\n"
        "from gaplab.locust_load import require_locust\n"
        "try:\n    require_locust()\nexcept Exception:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_locust_side_imports_cleanly_in_a_process_of_its_own() -> None:
    """What a Locust process imports: gevent patches it first, before anything else."""
    code = (
        "import warnings; warnings.simplefilter('error')\n"
        "import gaplab.locust_load.main, gaplab.locust_load.user, gaplab.locust_load.link\n"
        "import gevent.monkey; print(gevent.monkey.is_module_patched('socket'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
