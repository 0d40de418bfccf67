"""The engine/UI split: no module of gaplab outside `gaplab.tui` loads Textual.

Each check runs in a fresh interpreter, because this test process may already have
imported Textual. The control case (importing the TUI does load Textual) proves the probe
would notice a leak.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import importlib, json, pkgutil, sys
import gaplab
from gaplab.locust_load import LOCUST_SIDE

def walk(package):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        # `__main__` modules run a CLI when imported; the TUI is the one allowed importer.
        if info.name.endswith(".__main__") or info.name == "gaplab.tui":
            continue
        if info.name in LOCUST_SIDE:  # run only in Locust's processes: gevent patches them
            continue
        module = importlib.import_module(info.name)
        yield info.name
        if info.ispkg:
            yield from walk(module)

imported = list(walk(gaplab)) if sys.argv[1] == "core" else []
if sys.argv[1] == "cli":
    from gaplab.cli import main
    for args in (["--help"], ["run", "--help"], ["list"]):
        try:
            main(args, standalone_mode=False)
        except SystemExit:
            pass
    import gaplab.headless
    imported = ["gaplab.cli", "gaplab.headless"]
if sys.argv[1] == "tui":
    import gaplab.tui.app
    imported = ["gaplab.tui.app"]
textual = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print(json.dumps({"imported": imported, "textual": textual[:5]}))
"""


def _probe(mode: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_every_core_module_imports_without_textual() -> None:
    result = _probe("core")
    imported = set(result["imported"])
    # The walk really covered the core: engine, metrics, provider, checks, reports, CLI.
    for name in (
        "gaplab.engine.run",
        "gaplab.metrics.aggregator",
        "gaplab.provider.server",
        "gaplab.checks.registry",
        "gaplab.report.writers",
        "gaplab.headless",
        "gaplab.cli",
        "gaplab.demo.server",
    ):
        assert name in imported
    assert not any(name.startswith("gaplab.tui") for name in imported)
    assert len(imported) >= 60
    assert result["textual"] == []


def test_lab_help_and_list_do_not_load_textual() -> None:
    result = _probe("cli")
    assert result["imported"] == ["gaplab.cli", "gaplab.headless"]
    assert result["textual"] == []


def test_the_probe_sees_textual_when_the_tui_is_imported() -> None:
    assert "textual" in _probe("tui")["textual"]
