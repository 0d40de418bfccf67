"""Runs that go wrong: a target that cannot start (exit 3 with the lab error on the
scorecard) and a report path that cannot be written (exit 3, the scorecard still shown)."""

from __future__ import annotations

import json
from pathlib import Path

from gaplab.exit_codes import ExitCode
from gaplab.tui.app import GaplabApp
from gaplab.tui.catalog import Catalog
from gaplab.tui.screens.scorecard import ScorecardScreen

from .conftest import SIZE, wait_for


async def test_a_target_that_cannot_start_is_a_lab_error(catalog: Catalog, data_dir: Path) -> None:
    run = catalog.build_run("blip", str(data_dir / "dead-target.yaml"))
    app = GaplabApp(run=run)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen), "the scorecard")
        assert app.finished is not None
        report = app.finished.report
        assert report["status"] == "failed" and report["error"]
        notes = str(app.screen.query_one("#report-notes").render())
        assert notes.startswith(f"lab error: {report['error']}")
        assert app.exit_code is ExitCode.LAB_ERROR
        await pilot.press("q")
    assert app.return_code == ExitCode.LAB_ERROR
    assert json.loads((run.run_dir / "report.json").read_text())["status"] == "failed"


async def test_an_unwritable_report_path_is_a_lab_error_but_the_scorecard_shows(
    catalog: Catalog, tmp_path: Path
) -> None:
    json_path = tmp_path / "a-directory"
    json_path.mkdir()
    app = GaplabApp(run=catalog.build_run("blip"), json_path=json_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen), "the scorecard")
        assert app.finished is not None and app.finished.problem is not None
        assert str(json_path) in app.finished.problem
        assert app.finished.report["verdict"]["ready"] is False  # the run itself was scored
        assert app.exit_code is ExitCode.LAB_ERROR
        await pilot.press("q")
    assert app.return_code == ExitCode.LAB_ERROR
