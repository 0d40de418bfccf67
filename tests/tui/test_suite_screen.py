"""`lab run SUITE --tui` end to end: a tiny real suite (every scenario its own `lab run`
process: real mock provider, real load, real sockets) shown live on the suite screen,
then the merged scorecard with the evidence kind, a scenario's own scorecard, the exit
code; and q mid-suite: SIGINT to the scenarios, partial reports, 130, no process left."""

from __future__ import annotations

import asyncio
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.progress_bar import ProgressBar
from textual.widgets import DataTable, OptionList

from gaplab.cli import main
from gaplab.exit_codes import ExitCode
from gaplab.suite.loading import load_suite
from gaplab.suite.runner import SuiteRun
from gaplab.tui.app import GaplabApp
from gaplab.tui.catalog import Catalog
from gaplab.tui.past import scored_from_folder
from gaplab.tui.screens.home import HomeScreen
from gaplab.tui.screens.runs import RunsScreen
from gaplab.tui.screens.scorecard import ScorecardScreen
from gaplab.tui.screens.suite import SuiteScreen
from gaplab.tui.screens.suite_scorecard import SuiteScorecardScreen
from tests.e2e.test_no_orphans import _alive, descendants

from .conftest import DATA, OVERLOADED, SIZE, wait_for, widget_lines

SUITE = """\
version: 1
suite: tiny
title: a tiny suite
target: {target}
concurrency: 2
scenarios: [{scenarios}]
"""


def tiny_suite(data_dir: Path, *copies: tuple[str, str]) -> Path:
    """A suite of copies of the test scenarios, each under its own name (name, source)."""
    for name, source in copies:
        text = (data_dir / f"{source}.yaml").read_text()
        (data_dir / f"{name}.yaml").write_text(text.replace(f"name: {source}\n", f"name: {name}\n"))
    path = data_dir / "tiny.suite.yaml"
    scenarios = ", ".join(f"{name}.yaml" for name, _ in copies)
    path.write_text(SUITE.format(target=data_dir / "provider-direct.yaml", scenarios=scenarios))
    return path


def cell(app: GaplabApp, row: str, column: str) -> str:
    table = app.screen.query_one("#suite-scenarios", DataTable)
    value = table.get_cell(row, column)
    return value.plain if hasattr(value, "plain") else str(value)


def scorecard_rows(app: GaplabApp, kind: type[ScorecardScreen]) -> int:
    """Rows of the scorecard on screen, if it is exactly of `kind` and mounted."""
    screen = app.screen
    if type(screen) is not kind or not screen.is_mounted:
        return 0
    return screen.query_one("#score-checks", DataTable).row_count


def scenario_processes() -> dict[int, str]:
    """This test's live `lab run` processes of suite scenarios (pid: start time)."""
    return {
        pid: started
        for pid, started in descendants(os.getpid()).items()
        if "gaplab.suite.child" in cmdline(pid)
    }


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def skip_if_a_lab_gave_up(run: SuiteRun) -> None:
    """A scenario's lab stopped itself because the machine was too busy to run it
    faithfully (exit 3, "the lab is overloaded"): that says nothing about the TUI."""
    for log in run.run_dir.glob("*.log"):
        if OVERLOADED in log.read_text(errors="replace"):
            pytest.skip(f"{log.stem}: {OVERLOADED}")


def overall(screen: SuiteScreen) -> str:
    return str(screen.query_one("#suite-overall").render())


async def test_the_suite_is_shown_live_then_merged_with_the_kind_column(
    data_dir: Path, tmp_path: Path
) -> None:
    path = tiny_suite(data_dir, ("blip", "blip"), ("blip_again", "blip"), ("blip_late", "blip"))
    run = SuiteRun(load_suite(path), tmp_path / "runs")
    app = GaplabApp(suite=run, json_path=tmp_path / "out" / "suite.json")
    app.final_pause = 0.5
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, SuiteScreen)
        await wait_for(pilot, lambda: len(screen.started) == 2, "two scenarios to start")
        # two at a time: the third waits while the first two run, with a bar each
        (late,) = (e.name for e in run.order if e.name not in screen.started)
        assert cell(app, late, "state") == "waiting"
        await wait_for(pilot, lambda: screen.last is not None and screen.last.running, "a tick")
        running = screen.last.running[0][0]  # type: ignore[union-attr]
        assert cell(app, running, "state") == "running"
        table = screen.query_one("#suite-scenarios", DataTable)
        assert isinstance(table.get_cell(running, "progress"), ProgressBar)
        assert "of 3 done · 2 running · 1 waiting" in overall(screen)
        assert "left" in overall(screen)

        await wait_for(pilot, lambda: len(screen.results) == 3, "every scenario", within=90)
        skip_if_a_lab_gave_up(run)
        for name in screen.results:
            # blip has no fallback between the users and the provider's 503s
            assert cell(app, name, "state") == "done"
            assert cell(app, name, "exit") == "1"
            assert cell(app, name, "result") == "NOT READY"
            assert cell(app, name, "score").endswith("%")
        assert overall(screen).startswith("3 of 3 done · took ")

        await wait_for(pilot, lambda: scorecard_rows(app, SuiteScorecardScreen), "the merged one")
        merged = app.screen
        document = json.loads((run.run_dir / "report.json").read_text())
        items = merged.query_one("#score-checks", DataTable)
        labels = [str(c.label) for c in items.columns.values()]
        assert labels[:4] == ["check", "verdict", "kind", "scenario"]
        assert items.row_count == len(document["items"])
        kinds = {str(items.get_cell(i["id"], "kind")) for i in document["items"]}
        assert kinds == {"measured", "attested"}
        assert str(items.get_cell("resilience.fallback", "verdict")) == "FAIL"
        assert str(items.get_cell("testing.evals", "kind")) == "attested"
        areas = "\n".join(widget_lines(merged.query_one("#phases-body")))
        assert "measured and probed" in areas and "overall" in areas
        assert document["verdict"]["headline"].startswith("NOT READY")
        assert all(i["why"] for i in document["items"])  # why each matters, in the report
        assert app.exit_code is ExitCode.NOT_READY
        assert json.loads((tmp_path / "out" / "suite.json").read_text()) == document

        # enter on an item: the scorecard of the scenario that decided it
        decided_by = document["items"][0]["decided_by"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: scorecard_rows(app, ScorecardScreen), "its scorecard")
        assert app.screen.report["scenario"]["name"] == decided_by  # type: ignore[attr-defined]
        # back twice: the suite screen, where enter on a finished row opens its scorecard
        await pilot.press("escape")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "the suite screen")
        table.move_cursor(row=table.get_row_index(late))
        await pilot.press("enter")
        await wait_for(pilot, lambda: scorecard_rows(app, ScorecardScreen), "the row's scorecard")
        assert app.screen.report["scenario"]["name"] == late  # type: ignore[attr-defined]
        await pilot.press("q")
    assert app.return_code == ExitCode.NOT_READY

    # The suite's folder opened later: the same merged scorecard (`lab report FOLDER --tui`)
    past = GaplabApp(past=scored_from_folder(run.run_dir))
    async with past.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: scorecard_rows(past, SuiteScorecardScreen), "the past one")
        rows = past.screen.query_one("#score-checks", DataTable)
        assert rows.row_count == len(document["items"])
        assert str(rows.get_cell("testing.evals", "kind")) == "attested"
    # and on the console, with the suite's exit code and report files
    junit = tmp_path / "out" / "again.xml"
    done = CliRunner().invoke(main, ["report", str(run.run_dir), "--junit", str(junit)])
    assert done.exit_code == ExitCode.NOT_READY, done.output
    assert "kind" in done.output and "attested" in done.output and "NOT READY" in done.output
    cases = {(c.get("classname"), c.get("name")) for c in ET.parse(junit).iter("testcase")}
    assert ("gaplab.attestation.testing", "testing.evals") in cases
    assert ("gaplab.blip.resilience", "resilience.fallback") in cases


def test_lab_run_suite_tui_opens_the_suite_in_the_app(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: dict[str, object] = {}

    def fake_app(**kwargs: object) -> int:  # the app itself is the tests above
        shown.update(kwargs)
        return 0

    monkeypatch.setattr("gaplab.tui.app.run_app", fake_app)
    path = tiny_suite(data_dir, ("blip", "blip"))
    runs = tmp_path / "runs"
    done = CliRunner().invoke(main, ["run", str(path), "--tui", "--runs-dir", str(runs)])
    assert done.exit_code == 0, done.output
    suite = shown["suite"]
    assert isinstance(suite, SuiteRun) and [e.name for e in suite.order] == ["blip"]
    assert suite.run_dir.parent == runs


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_q_mid_suite_stops_every_scenario_exits_130_and_leaves_no_process(
    data_dir: Path, tmp_path: Path, key: str
) -> None:
    path = tiny_suite(data_dir, ("long", "long"), ("long_too", "long"), ("blip", "blip"))
    run = SuiteRun(load_suite(path), tmp_path / "runs")
    app = GaplabApp(suite=run)
    async with app.run_test(size=SIZE) as pilot:

        def playing() -> bool:  # both long scenarios past their start (handlers installed)
            logs = [run.run_dir / f"{name}.log" for name in ("long", "long_too")]
            return all(p.exists() and "phase 1 baseline" in p.read_text() for p in logs)

        await wait_for(pilot, playing, "both long scenarios to play", within=60)
        tree = scenario_processes()
        assert len(tree) == 2  # a `lab run` process per running scenario
        await pilot.press(key)
        await wait_for(pilot, lambda: app.return_code is not None, "the app to exit", within=60)
    assert app.return_code == ExitCode.INTERRUPTED
    # every scenario process was waited for before the app exited: none is left
    assert [pid for pid, started in tree.items() if _alive(pid, started)] == []
    assert scenario_processes() == {}
    report = json.loads((run.run_dir / "report.json").read_text())
    assert report["status"] == "interrupted" and report["partial"]
    assert report["verdict"]["headline"].startswith("INCOMPLETE")
    codes = {s["name"]: s["exit_code"] for s in report["scenarios"]}
    assert codes == {"long": 130, "long_too": 130, "blip": None}
    ran = [s for s in report["scenarios"] if s["exit_code"] is not None]
    assert all(s["report"]["partial"] and s["report"]["totals"]["duration_s"] < 60 for s in ran)


async def test_a_suite_from_the_picker_runs_on_the_suite_screen_and_s_stops_it(
    catalog: Catalog, data_dir: Path
) -> None:
    path = tiny_suite(data_dir, ("long", "long"), ("blip", "blip"))
    catalog.suites["tiny"] = path
    app = GaplabApp(catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "the picker")
        scenarios = app.screen.query_one("#scenarios", OptionList)
        scenarios.highlighted = catalog.choices().index("suite:tiny")
        await pilot.pause()
        details = "\n".join(widget_lines(app.screen.query_one("#scenario-details-body")))
        assert "suite · 2 scenarios, 2 at a time" in details and "long" in details
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SuiteScreen), "the suite screen")
        assert app.suite is not None
        run = app.suite.run
        # the suite's own target (the picker's "scenario's own" target), in the catalog's folder
        assert run.run_dir.parent == catalog.runs_dir
        log = run.run_dir / "long.log"
        await wait_for(
            pilot, lambda: log.exists() and "phase 1 baseline" in log.read_text(), "long to play"
        )
        loop = asyncio.get_running_loop()
        pressed = loop.time()
        await pilot.press("s")
        await wait_for(
            pilot, lambda: scorecard_rows(app, SuiteScorecardScreen), "the partial scorecard"
        )
        stopped_in = loop.time() - pressed
        notes = str(app.screen.query_one("#report-notes").render())
        assert "partial report: did not finish: " in notes
        assert app.exit_code is ExitCode.INTERRUPTED
        # no scenario was waiting to start: the running one still got SIGINT at once (not
        # killed after the runner's 30 s grace) and wrote its partial report
        codes = {s["name"]: s["exit_code"] for s in app.suite.finished.document["scenarios"]}
        assert codes["long"] == 130 and stopped_in < 20
        await pilot.press("q")
    assert app.return_code == ExitCode.INTERRUPTED
    assert scenario_processes() == {}


async def test_a_past_suite_is_listed_with_the_runs_and_opens_merged(
    catalog: Catalog, tmp_path: Path
) -> None:
    folder = catalog.runs_dir / "20261202-040000-tiny"
    folder.mkdir(parents=True)
    (folder / "report.json").write_text((DATA / "suite-report.json").read_text())
    app = GaplabApp(catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "the picker")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), "the past runs")
        table = app.screen.query_one("#runs-table", DataTable)
        row = table.get_row(str(folder))
        assert row[1:5] == [folder.name, "NOT READY", "0%", "provider-direct.yaml"]
        app.compare_paths(folder, folder)  # a suite is no run to compare: said, not raised
        await wait_for(pilot, lambda: bool(app._notifications), "the reason")
        (notice,) = list(app._notifications)
        assert "a suite; compare its scenarios' run folders" in notice.message
        await pilot.press("enter")
        await wait_for(pilot, lambda: scorecard_rows(app, SuiteScorecardScreen), "its scorecard")
        await pilot.press("q")
