"""Fixtures for the TUI tests: a catalog of very short real scenarios, and `wait_for`,
which polls a condition under a deadline (never a fixed sleep)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from gaplab.tui.catalog import SCENARIO_TARGET, Catalog

DATA = Path(__file__).parent / "data"
SIZE = (120, 40)


async def wait_for(
    pilot: Pilot[object], condition: Callable[[], object], what: str, within: float = 30.0
) -> None:
    """Let the app run until `condition()` is true; fail naming `what` after `within` seconds."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            skip_if_the_lab_gave_up(pilot.app)
            raise AssertionError(f"timed out after {within:g}s waiting for {what}")
        await pilot.pause(0.02)


OVERLOADED = "the lab is overloaded"


def skip_if_the_lab_gave_up(app: object) -> None:
    """The lab's own guard (gaplab.engine.monitor) ended the run because this machine was
    too busy to run it faithfully (loop lag p99 past 250 ms): the run says nothing about
    the TUI, so the test is skipped with the lab's words rather than failed. Any other
    end of the run is left to the test to judge."""
    finished = getattr(app, "finished", None)
    error = str(finished.report.get("error") or "") if finished is not None else ""
    if OVERLOADED in error:
        pytest.skip(f"the lab stopped the run: {error}")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of tests/tui/data, so runs and reports stay inside tmp_path."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


@pytest.fixture
def catalog(data_dir: Path, tmp_path: Path) -> Catalog:
    return Catalog(
        scenarios={
            "blip": data_dir / "blip.yaml",
            "long": data_dir / "long.yaml",
            "stall": data_dir / "stall.yaml",
        },
        targets=(SCENARIO_TARGET, str(data_dir / "provider-direct.yaml")),
        runs_dir=tmp_path / "runs",
    )


def screen_lines(app: object) -> list[str]:
    """What a person sees: the current screen's rows as plain text (the compositor's own
    strips, exactly what the terminal gets)."""
    screen = app.screen  # type: ignore[attr-defined]
    return [strip.text for strip in screen._compositor.render_strips()]


def widget_lines(widget: object) -> list[str]:
    """A widget's own rows as plain text, its whole content even when scrolled out."""
    from textual.geometry import Region

    size = widget.size  # type: ignore[attr-defined]
    strips = widget.render_lines(Region(0, 0, size.width, size.height))  # type: ignore[attr-defined]
    return [strip.text for strip in strips]


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The TUI's remembered choice and theme go to tmp_path, never to the user's folder."""
    folder = tmp_path / "state"
    monkeypatch.setenv("GAPLAB_STATE_DIR", str(folder))
    return folder
