"""`lab run --tui` end to end: a real ~2 s run (real mock provider, real load generator,
real sockets) shown live, then the scorecard, the reports and the exit code."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from textual.widgets import DataTable

from gaplab.exit_codes import ExitCode
from gaplab.tui.app import GaplabApp
from gaplab.tui.catalog import Catalog
from gaplab.tui.screens.live import LiveRunScreen
from gaplab.tui.screens.scorecard import ScorecardScreen
from gaplab.tui.widgets.outcomes import OutcomeCounters

from .conftest import SIZE, wait_for


def scorecard_rows(app: GaplabApp) -> int:
    screen = app.screen
    if not isinstance(screen, ScorecardScreen) or not screen.is_mounted:
        return 0
    return screen.query_one("#score-checks", DataTable).row_count


async def test_a_run_is_shown_live_then_scored(catalog: Catalog, tmp_path: Path) -> None:
    run = catalog.build_run("blip")
    json_path, junit_path = tmp_path / "out" / "r.json", tmp_path / "out" / "r.xml"
    app = GaplabApp(run=run, json_path=json_path, junit_path=junit_path)
    async with app.run_test(size=SIZE) as pilot:
        live = app.screen
        assert isinstance(live, LiveRunScreen)
        # Mid-run: the counters on screen move while the run is still going.
        await wait_for(
            pilot,
            lambda: live.last is not None and live.last.status == "running" and live.ticks > 2,
            "the first ticks of a running run",
        )
        counters = live.query_one(OutcomeCounters)  # kept: the screen goes at the end
        await wait_for(pilot, lambda: app.finished is not None, "the run to finish")
        await wait_for(pilot, lambda: scorecard_rows(app) > 0, "the scorecard")
        assert app.finished is not None
        report = app.finished.report
        assert live.last is not None and live.last.status == "completed"
        # The last tick drew exactly the totals the report was written from.
        for outcome, count in report["totals"]["outcomes"].items():
            assert counters.value(outcome) == f"{count:,}"
        assert live.ticks >= 8  # ~2 s of run at 8 Hz, with wide margin

        # The outage phase: no fallback between the users and the provider, so users
        # got errors instead of answers (a request sent in the last milliseconds of the
        # phase can reach the provider after the fault cleared, hence "most", not "all").
        phases = {p["name"]: p for p in report["phases"]}
        assert phases["baseline"]["outcomes"]["ok"] > 0
        outage = phases["outage"]["outcomes"]
        assert outage["ok"] < 0.5 * sum(outage.values())
        verdicts = {c["id"]: c["verdict"] for c in report["checks"]}
        assert verdicts["resilience.fallback"] == "fail"
        assert report["verdict"]["ready"] is False
        assert app.exit_code is ExitCode.NOT_READY

        # The live checklist ticked to the same verdicts.
        assert live.last.checks == verdicts

        # The scorecard shows one row per check and the evidence of the highlighted one.
        table = app.screen.query_one("#score-checks", DataTable)
        assert table.row_count == len(report["checks"])
        assert str(table.get_cell_at((0, 1))) in {"FAIL", "PASS", "WARN", "not run"}

        await pilot.press("q")
    assert app.return_code == ExitCode.NOT_READY

    # Same files as headless: run_dir/report.json always, plus --json and --junit.
    written = json.loads((run.run_dir / "report.json").read_text())
    assert written == json.loads(json_path.read_text()) == report
    suite = ET.parse(junit_path).getroot()
    assert suite.get("tests") == str(len(report["checks"]))
    assert int(suite.get("failures") or 0) == sum(v == "fail" for v in verdicts.values())


async def test_quitting_mid_run_stops_it_writes_the_partial_report_and_exits_130(
    catalog: Catalog,
) -> None:
    run = catalog.build_run("long")  # 90 s planned
    app = GaplabApp(run=run)
    async with app.run_test(size=SIZE) as pilot:
        live = app.screen
        assert isinstance(live, LiveRunScreen)
        await wait_for(
            pilot,
            lambda: live.last is not None and sum(live.last.totals.values()) > 0,
            "requests to be counted",
        )
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, "the app to exit")
    assert app.return_code == ExitCode.INTERRUPTED
    report = json.loads((run.run_dir / "report.json").read_text())
    assert report["status"] == "interrupted"
    assert report["partial"] is True
    assert sum(report["totals"]["outcomes"].values()) > 0
    assert report["totals"]["duration_s"] < 60  # stopped, not played to its 90 s end
    assert not app.run_active


async def test_stop_key_shows_the_partial_scorecard(catalog: Catalog) -> None:
    run = catalog.build_run("long")
    app = GaplabApp(run=run)
    async with app.run_test(size=SIZE) as pilot:
        live = app.screen
        assert isinstance(live, LiveRunScreen)
        await wait_for(pilot, lambda: live.last is not None and live.ticks > 2, "a few ticks")
        await pilot.press("s")
        await wait_for(pilot, lambda: scorecard_rows(app) > 0, "the scorecard")
        assert app.finished is not None
        assert app.finished.report["partial"] is True
        notes = str(app.screen.query_one("#report-notes").render())
        assert "partial report: the run was interrupted" in notes
        assert app.exit_code is ExitCode.INTERRUPTED
        await pilot.press("q")
    assert app.return_code == ExitCode.INTERRUPTED
