"""Issue 15's defects 1-9, each reproduced on the real app (`run_test`, real engine, real
mock provider, real sockets) and checked on what the screen shows."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import DataTable, Log

from gaplab.engine.events import CheckEvaluated, Event
from gaplab.exit_codes import ExitCode
from gaplab.tui.app import GaplabApp
from gaplab.tui.catalog import Catalog
from gaplab.tui.evidence import phases_table
from gaplab.tui.screens.help import HelpScreen
from gaplab.tui.screens.home import HomeScreen
from gaplab.tui.screens.live import LiveRunScreen
from gaplab.tui.screens.scorecard import ScorecardScreen, ScoredRun
from gaplab.tui.widgets.checklist import PENDING, VERDICT_LABEL, CheckList
from gaplab.tui.widgets.target_panel import TargetPanel
from gaplab.tui.widgets.timechart import TimeChart

from .conftest import SIZE, screen_lines, skip_if_the_lab_gave_up, wait_for, widget_lines

RAW_VALUE = re.compile(r"\{'|\bNone\b|\d\.\d{4,}|drop: -")


def on_scorecard(app: GaplabApp) -> bool:
    return isinstance(app.screen, ScorecardScreen) and app.screen.is_mounted


async def test_1_a_hang_reads_as_a_stall_not_as_frozen_charts(catalog: Catalog) -> None:
    run = catalog.build_run("stall")
    app = GaplabApp(run=run)
    async with app.run_test(size=SIZE) as pilot:
        live = app.screen
        assert isinstance(live, LiveRunScreen)

        def deep_in_the_hang() -> bool:
            last = live.last
            return last is not None and last.phase == "hang" and last.phase_elapsed > 7.0

        # 7 s in: the answers in flight when the hang began (about a second each) are
        # more than 5 s old, so the last 5 s saw none finish.
        try:
            await wait_for(pilot, deep_in_the_hang, "7 s into the hang", within=60)
        except AssertionError:
            skip_if_the_lab_gave_up(app)
            last, finished = live.last, app.finished
            where = last and (last.status, last.phase, round(last.phase_elapsed, 1))
            why = finished.report.get("error") if finished else None
            raise AssertionError(f"never 7 s into the hang: {where}; lab error: {why}") from None
        await pilot.pause(0.3)  # two more ticks: charts and panels both redrawn
        skip_if_the_lab_gave_up(app)
        panel = live.query_one(TargetPanel)
        flight = panel.value("in flight")
        users = int(flight.split(" ")[0])
        found = re.search(r"oldest ([\d.]+) s\b", flight)
        assert found is not None, f"in flight: {flight!r}"
        oldest = float(found.group(1))
        assert users == 4 and oldest > 5.0  # every user stuck, nearly since the hang began
        # The last 5 s had no answer: no whole-run p95 of the baseline pretending otherwise.
        assert panel.value("answers (last 5 s)") == "none finished"
        calls = live.query_one("#chart-calls", TimeChart)
        latency = live.query_one("#chart-latency", TimeChart)
        cursor = calls._cursor
        assert cursor > 0
        # The seconds of the hang are drawn (zero calls), not skipped; no latency bars.
        hang_columns = range(cursor - 20, cursor)
        assert all(calls.values[c] == 0 for c in hang_columns)
        assert all(latency.values[c] is None for c in hang_columns)
        assert latency.caption == "no answers"
        assert any(v for v in calls.values[: cursor - 60])  # the baseline's calls
        await pilot.press("s")
        await wait_for(pilot, lambda: app.finished is not None, "the stop")
        await pilot.press("q")


async def test_2_checks_tick_live_and_the_final_verdicts_stay_before_the_scorecard(
    catalog: Catalog,
) -> None:
    run = catalog.build_run("blip")
    live_verdicts: list[CheckEvaluated] = []

    def listen(event: Event) -> None:
        if isinstance(event, CheckEvaluated) and not event.final:
            live_verdicts.append(event)

    run.bus.subscribe(listen)
    app = GaplabApp(run=run)
    app.final_pause = 2.0
    async with app.run_test(size=SIZE) as pilot:
        live = app.screen
        assert isinstance(live, LiveRunScreen)
        checks = live.query_one(CheckList)

        def ticked_while_running() -> bool:
            last = live.last
            return (
                last is not None
                and last.status == "running"
                and any(str(checks.get_cell(c, "verdict")) != PENDING for c in checks.check_ids)
            )

        await wait_for(pilot, ticked_while_running, "a check decided while the run goes on")
        assert live_verdicts, "the engine published no check before the run's end"
        await wait_for(pilot, lambda: app.finished is not None, "the run's end")
        # The run is over and the live screen is still there with every verdict on it.
        assert app.screen is live
        verdicts = {c["id"]: c["verdict"] for c in app.finished.report["checks"]}  # type: ignore[union-attr]
        await pilot.pause(0.3)
        shown = {c: str(checks.get_cell(c, "verdict")) for c in checks.check_ids}
        assert shown == {c: VERDICT_LABEL[v] for c, v in verdicts.items()}
        status = str(live.query_one("#run-status").render())
        headline = app.finished.report["verdict"]["headline"]  # type: ignore[union-attr]
        assert status == f"{headline} · scorecard in 2 s (enter: now)"
        await wait_for(pilot, lambda: on_scorecard(app), "the scorecard after the pause")
        await pilot.press("q")


async def test_3_a_stopped_run_reads_incomplete_with_the_true_reasons(catalog: Catalog) -> None:
    app = GaplabApp(run=catalog.build_run("long"))
    app.final_pause = 0.1
    async with app.run_test(size=SIZE) as pilot:
        live = app.screen
        assert isinstance(live, LiveRunScreen)
        await wait_for(
            pilot,
            lambda: live.last is not None and sum(live.last.totals.values()) > 3,
            "requests",
        )
        await pilot.press("s")
        await wait_for(pilot, lambda: on_scorecard(app), "the scorecard")
        screen = app.screen
        headline = screen.query_one("#headline")
        text = str(headline.render())
        assert text.startswith("INCOMPLETE  the run was interrupted")
        assert "READY" not in text.replace("INCOMPLETE", "") and headline.has_class("incomplete")
        table = screen.query_one("#score-checks", DataTable)
        assert {str(table.get_cell_at((r, 1))) for r in range(table.row_count)} == {"not run"}
        detail = "\n".join(widget_lines(screen.query_one("#check-detail-body")))
        assert "interrupted" in detail or "did not" in detail or "never" in detail
        assert app.exit_code is ExitCode.INTERRUPTED
        await pilot.press("q")


async def test_4_a_lab_error_in_bare_lab_says_where_to_look_and_n_goes_back(
    catalog: Catalog, data_dir: Path
) -> None:
    catalog.targets = (*catalog.targets, str(data_dir / "dead-target.yaml"))
    app = GaplabApp(catalog=catalog)
    app.final_pause = 0.1
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "the picker")
        await pilot.press("tab", "tab", "down", "down", "enter")  # the dead target
        await wait_for(pilot, lambda: on_scorecard(app), "the scorecard of the failed run")
        notes = str(app.screen.query_one("#report-notes").render())
        error = app.finished.report["error"]  # type: ignore[union-attr]
        assert notes.startswith(f"lab error: {error}")
        assert not re.search(r"\w+Error\(", notes)  # a sentence, not an exception repr
        assert "target log: " in notes and str(app.current_run.run_dir) in notes  # type: ignore[union-attr]
        assert app.exit_code is ExitCode.LAB_ERROR
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "the picker again")
        await pilot.press("q")
    assert app.return_code == ExitCode.LAB_ERROR


async def test_5_the_evidence_pane_focuses_scrolls_and_reads_as_numbers(
    catalog: Catalog,
) -> None:
    app = GaplabApp(run=catalog.build_run("blip"))
    app.final_pause = 0.1
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: on_scorecard(app), "the scorecard", within=40)
        screen = app.screen
        pane = screen.query_one("#check-detail")
        await pilot.press("tab")
        assert app.focused is pane
        await pilot.pause()
        assert pane.max_scroll_y > 0  # at 100x30 the evidence is longer than the pane
        await pilot.press("end")
        await wait_for(pilot, lambda: pane.scroll_y == pane.max_scroll_y, "the pane's end")
        assert pane.scroll_y > 0
        # Every check's evidence, formatted for people.
        table = screen.query_one("#score-checks", DataTable)
        await pilot.press("shift+tab")
        for _ in range(table.row_count):
            detail = "\n".join(widget_lines(screen.query_one("#check-detail-body")))
            assert not RAW_VALUE.search(detail), detail
            await pilot.press("down")
            await pilot.pause()
        # The phase table keeps every column at the screen's width.
        console = Console(width=96, record=True)
        console.print(phases_table(app.finished.report))  # type: ignore[union-attr]
        header = console.export_text().splitlines()[0]
        for column in ("phase", "faults", "answers", "p95", "calls/req"):
            assert column in header
        await pilot.press("q")


async def test_5_summaries_are_whole_at_160_columns(catalog: Catalog) -> None:
    app = GaplabApp(run=catalog.build_run("blip"))
    app.final_pause = 0.1
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: on_scorecard(app), "the scorecard", within=40)
        # The same report with a summary as long as the hang's (~150 characters).
        report = copy.deepcopy(app.finished.report)  # type: ignore[union-attr]
        first = report["checks"][0]
        first["summary"] = f"{first['summary']}; " * 3 + "the end of the summary"
        await app.switch_screen(ScorecardScreen(ScoredRun(report)))
        await pilot.pause(0.2)
        text = " ".join(" ".join(screen_lines(app)).split())
        for check in report["checks"]:
            words = check["summary"].split()
            # The summary's last words are on screen: it wrapped, it was not cut.
            assert " ".join(words[-3:]) in text, check["summary"]
        await pilot.press("q")


async def test_6_at_80x24_the_log_cost_and_verdicts_are_readable(catalog: Catalog) -> None:
    app = GaplabApp(run=catalog.build_run("long"))
    async with app.run_test(size=(80, 24)) as pilot:
        live = app.screen
        assert isinstance(live, LiveRunScreen)
        await wait_for(
            pilot,
            lambda: live.last is not None and live.last.phase == "baseline" and live.ticks > 10,
            "a running baseline",
        )
        await pilot.pause(0.3)
        log = live.query_one("#event-log", Log)
        assert log.region.height >= 3 and log.line_count >= 2
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert "[   " in text  # the event log's lines are on screen, not an empty border
        assert re.search(r"cost +(\$[\d.]+/req|no requests)", text)  # the cost row, whole
        checks = live.query_one(CheckList)
        assert checks.region.height >= 2 + len(checks.check_ids)  # every check has a row
        assert checks.region.right <= 80 and checks.region.bottom <= 24
        for check_id in checks.check_ids:
            assert any(check_id in line and PENDING in line for line in lines)
        assert "ok " in text and "req/s" in text  # the counters, on one line
        await pilot.press("s")
        await wait_for(pilot, lambda: app.finished is not None, "the stop")
        await pilot.press("q")


async def test_7_ctrl_s_saves_a_screenshot_into_the_run_folder_without_downloads(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # no ~/Downloads here
    run = catalog.build_run("long")
    app = GaplabApp(run=run)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: run.run_dir.is_dir(), "the run folder")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any(run.run_dir.glob("*.svg")), "the screenshot")
        svg = next(run.run_dir.glob("*.svg")).read_text()
        assert svg.startswith("<svg") and "gaplab" in svg
        assert not (home / "Downloads").exists()
        await pilot.press("s")
        await wait_for(pilot, lambda: app.finished is not None, "the stop")
        await pilot.press("q")


async def test_9_enter_on_a_target_runs_and_question_mark_and_f1_show_the_keys(
    catalog: Catalog,
) -> None:
    app = GaplabApp(catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "the picker")
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), f"help on {key}")
            keys = "\n".join(widget_lines(app.screen.query_one("#help-keys")))
            assert "Run the highlighted scenario" in keys and "Quit" in keys
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "help closed")
        await pilot.press("tab", "tab")  # past the details to the targets
        assert app.focused is app.screen.query_one("#targets")
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LiveRunScreen), "the run")
        assert app.current_run is not None
        assert app.current_run.options.target_label == catalog.targets[1]
        await pilot.press("s")
        await wait_for(pilot, lambda: app.finished is not None, "the stop")
        await pilot.press("q")
