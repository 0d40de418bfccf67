"""The snapshot suite (pytest-textual-snapshot): the picker, the live screen mid-run at
80x24 and 160x48, the scorecard, a lesson, the suite screen and the suite's scorecard,
each from a pinned app (tests/tui/snapshot_apps.py: no wall clock, fixed seed and data,
animations off, no cursor blink).
Update after a deliberate change with `pytest tests/tui/test_snapshots.py
--snapshot-update` and look at the SVGs (tests/tui/__snapshots__/) before committing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from .snapshot_apps import (
    LessonApp,
    LiveApp,
    ScorecardApp,
    SuiteApp,
    SuiteScorecardApp,
    picker_app,
)

Compare = Callable[..., bool]


async def settle(pilot: Pilot[object]) -> None:
    """No blinking cursor, and a few ticks of the live screen drawn."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause(0.5)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_picker(snap_compare: Compare, tmp_path: Path) -> None:
    assert snap_compare(picker_app(tmp_path / "runs"), terminal_size=(140, 40), run_before=settle)


def test_live_screen_mid_run_80x24(snap_compare: Compare, tmp_path: Path) -> None:
    assert snap_compare(LiveApp(tmp_path / "runs"), terminal_size=(80, 24), run_before=settle)


def test_live_screen_mid_run_160x48(snap_compare: Compare, tmp_path: Path) -> None:
    assert snap_compare(LiveApp(tmp_path / "runs"), terminal_size=(160, 48), run_before=settle)


def test_scorecard(snap_compare: Compare) -> None:
    assert snap_compare(ScorecardApp(), terminal_size=(120, 40), run_before=settle)


def test_lesson(snap_compare: Compare) -> None:
    assert snap_compare(LessonApp(), terminal_size=(100, 30), run_before=settle)


def test_suite_screen(
    snap_compare: Compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the pinned suite's folder is relative: runs/...
    assert snap_compare(SuiteApp(), terminal_size=(120, 30), run_before=settle)


def test_suite_scorecard(snap_compare: Compare) -> None:
    assert snap_compare(SuiteScorecardApp(), terminal_size=(140, 40), run_before=settle)
