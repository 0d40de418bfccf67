"""Every key of every screen, pressed on the real app, checked on what it did: the chaos
keys on a real run (each fault on and off, journaled, named in the report), the picker's
keys and inputs, the scorecard's drill-down, past runs and comparison, the remembered
choice and theme."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from textual.widgets import DataTable, Input, SelectionList

from gaplab.demo.options import DEFENCES
from gaplab.engine.manual import PRESETS
from gaplab.report.model import MANUAL_NOTE
from gaplab.report.rebuild import rebuild_report
from gaplab.tui.app import GaplabApp
from gaplab.tui.catalog import HARDENED, Catalog
from gaplab.tui.screens.compare import CompareScreen
from gaplab.tui.screens.home import HomeScreen
from gaplab.tui.screens.lessons import LessonListScreen
from gaplab.tui.screens.live import CHAOS_KEYS, LiveRunScreen
from gaplab.tui.screens.request import RequestScreen
from gaplab.tui.screens.runs import RunsScreen
from gaplab.tui.screens.scorecard import ScorecardScreen
from gaplab.tui.state import TuiState
from gaplab.tui.widgets.timeline import MANUAL, PhaseTimeline

from .conftest import SIZE, screen_lines, skip_if_the_lab_gave_up, wait_for, widget_lines


def on(app: GaplabApp, kind: type) -> bool:
    return isinstance(app.screen, kind) and app.screen.is_mounted


async def test_every_chaos_key_applies_its_fault_and_clears_it(catalog: Catalog) -> None:
    run = catalog.build_run("long")
    app = GaplabApp(run=run)
    app.final_pause = 0.1
    async with app.run_test(size=SIZE) as pilot:
        live = app.screen
        assert isinstance(live, LiveRunScreen)
        await wait_for(
            pilot,
            lambda: live.last is not None and live.last.status == "running" and live.ticks > 3,
            "the run going",
        )
        for key, name in CHAOS_KEYS.items():
            await pilot.press(key)
            await wait_for(pilot, lambda n=name: n in run.manual_faults, f"{name} on ({key})")
            await wait_for(
                pilot,
                lambda n=name: any(s.name == n for s in (live.last.manual if live.last else ())),
                f"{name} in the snapshot",
            )
            await pilot.press(key)
            await wait_for(pilot, lambda n=name: n not in run.manual_faults, f"{name} off")
        await pilot.press("1", "3")
        await wait_for(pilot, lambda: len(run.manual_faults) == 2, "two faults on")
        # The same from the command palette: each fault's entry says what it would do.
        commands = {c.title: c for c in app.get_system_commands(live)}
        assert "Chaos: clear provider 503" in commands
        assert "Chaos: apply provider hang" in commands
        assert "Chaos: clear every fault applied by hand" in commands
        commands["Chaos: apply provider hang"].callback()
        await wait_for(pilot, lambda: "hang" in run.manual_faults, "hang from the palette")
        await pilot.press("0")
        await wait_for(pilot, lambda: not run.manual_faults, "0 clears them all")
        await pilot.pause(0.3)
        skip_if_the_lab_gave_up(app)  # else the run is still going
        assert app.finished is None
        lines = live.query_one(PhaseTimeline).text_lines()
        row = next(line for line in lines if "by hand: " in line)  # latest first
        assert "by hand: hang, latency, provider_503" in row and MANUAL in row
        status_seen = str(live.query_one("#run-status").render())
        assert status_seen.startswith("running")
        await pilot.press("s")
        await wait_for(pilot, lambda: on(app, ScorecardScreen), "the scorecard")
        report = app.finished.report  # type: ignore[union-attr]
        applied = [span["name"] for span in report["manual_faults"]]
        assert applied == [*CHAOS_KEYS.values(), "provider_503", "latency", "hang"]
        assert all(span["end_s"] is not None for span in report["manual_faults"])
        assert MANUAL_NOTE in report["verdict"]["headline"]
        notes = str(app.screen.query_one("#report-notes").render())
        assert MANUAL_NOTE in notes
        manual = "\n".join(widget_lines(app.screen.query_one("#manual-body")))
        assert PRESETS["hang"].describe() in manual
        await pilot.press("q")
    journal = (run.run_dir / "events.jsonl").read_text()
    assert journal.count('"manual_fault"') == 2 * len(CHAOS_KEYS) + 6
    # Replaying the journal (`lab report`) gives the same verdicts and the same faults.
    rebuilt = rebuild_report(run.run_dir, fail_under=80)
    assert rebuilt["verdict"]["headline"] == report["verdict"]["headline"]
    assert [c["verdict"] for c in rebuilt["checks"]] == [c["verdict"] for c in report["checks"]]
    assert rebuilt["manual_faults"] == report["manual_faults"]


async def test_chaos_keys_do_nothing_once_the_run_is_over(catalog: Catalog) -> None:
    run = catalog.build_run("blip")
    app = GaplabApp(run=run)
    app.final_pause = 30.0  # the finished live screen stays
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.finished is not None, "the run's end", within=40)
        await pilot.press("1")
        await pilot.pause(0.2)
        assert run.manual_faults == () and "manual_faults" not in app.finished.report  # type: ignore[union-attr]
        footer = screen_lines(app)[-1]
        assert "Stop run" not in footer and "Clear chaos" not in footer and "Scorecard" in footer
        await pilot.press("enter")  # the scorecard now, not in 30 s
        await wait_for(pilot, lambda: on(app, ScorecardScreen), "the scorecard", within=3)
        await pilot.press("q")


async def test_picker_keys_seed_defences_file_and_remembered_choice(
    catalog: Catalog, data_dir: Path, state_dir: Path
) -> None:
    catalog.targets = (*catalog.targets, HARDENED)
    catalog.defences = tuple(DEFENCES)
    app = GaplabApp(catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: on(app, HomeScreen), "the picker")
        home = app.screen
        assert isinstance(home, HomeScreen)
        defences = home.query_one("#defences", SelectionList)
        assert not defences.display  # only for demo:hardened
        await pilot.press("tab", "tab", "down", "down")
        assert home.selected() == ("blip", HARDENED) and defences.display
        await pilot.press("tab", "space")  # the first defence off
        first = next(iter(DEFENCES))
        assert home.removed_defences() == [first]
        assert home.selected() == ("blip", f"{HARDENED}?without={first}")

        # A broken local scenario: its problems with file:line, no crash.
        broken = data_dir / "broken.yaml"
        broken.write_text("version: 1\nname: x\nphases: []\nload: {users: many}\n")
        file_input = home.query_one("#file", Input)
        file_input.focus()
        file_input.value = str(broken)
        await pilot.press("enter")
        problems = str(home.query_one("#file-problems").render())
        assert f"{broken}:" in problems and "users" in problems
        # A good one is added to the list and highlighted.
        good = data_dir / "blip-copy.yaml"
        good.write_text((data_dir / "blip.yaml").read_text().replace("name: blip", "name: copy"))
        file_input.value = str(good)
        await pilot.press("enter")
        assert "added the scenario copy" in str(home.query_one("#file-problems").render())
        assert home.selected() is not None and home.selected()[0] == "copy"  # type: ignore[index]

        # Back to the plain target, a seed, then r runs it.
        home.query_one("#targets").focus()
        await pilot.press("up")
        home.query_one("#seed", Input).value = "42"
        home.query_one("#scenarios").focus()
        await pilot.press("r")
        await wait_for(pilot, lambda: on(app, LiveRunScreen), "the run")
        assert app.current_run is not None and app.current_run.seed == 42
        await pilot.press("s")
        await wait_for(pilot, lambda: app.finished is not None, "the stop")
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("q")
    saved = TuiState.load(state_dir)
    assert saved.theme == "textual-light"
    assert saved.last is not None and saved.last.scenario == "copy" and saved.last.seed == 42
    assert json.loads((state_dir / "tui.json").read_text())["theme"] == "textual-light"

    again = GaplabApp(catalog=catalog)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: on(again, HomeScreen), "the picker")
        assert again.theme == "textual-light"
        home = again.screen
        assert isinstance(home, HomeScreen)
        assert home.query_one("#seed", Input).value == "42"
        assert home.selected() == ("copy", catalog.targets[1])  # highlighted as left
        await pilot.press("o")
        await wait_for(pilot, lambda: on(again, RunsScreen), "past runs (o)")
        await pilot.press("escape")
        await pilot.press("w")
        await wait_for(pilot, lambda: on(again, LessonListScreen), "the lessons (w)")
        await pilot.press("escape")
        await wait_for(pilot, lambda: on(again, HomeScreen), "back home")
        await pilot.press("q")


async def test_scorecard_drill_down_past_runs_and_comparison(catalog: Catalog) -> None:
    app = GaplabApp(catalog=catalog)
    app.final_pause = 0.1
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: on(app, HomeScreen), "the picker")
        await pilot.press("enter")  # blip against its own target
        await wait_for(pilot, lambda: on(app, ScorecardScreen), "the scorecard", within=40)
        scorecard = app.screen
        assert isinstance(scorecard, ScorecardScreen)
        report = app.finished.report  # type: ignore[union-attr]
        with_examples = [c["id"] for c in report["checks"] if c["example_requests"]]
        assert with_examples, "blip's failing fallback names example requests"
        table = scorecard.query_one("#score-checks", DataTable)
        table.move_cursor(row=[c["id"] for c in report["checks"]].index(with_examples[0]))
        await pilot.press("enter")
        await wait_for(pilot, lambda: on(app, RequestScreen), "the example request")
        request = app.screen
        assert isinstance(request, RequestScreen)
        view = "\n".join(widget_lines(request.query_one("#request-view")))
        first = request.examples[0]
        assert first["request_id"] in request.query_one("#request-body").border_title  # type: ignore[operator]
        assert "provider call" in view and "HTTP 503" in view
        if len(request.examples) > 1:
            await pilot.press("right")
            assert request.index == 1
            await pilot.press("left")
        assert request.index == 0
        await pilot.press("escape")
        await wait_for(pilot, lambda: on(app, ScorecardScreen), "back on the scorecard")

        # A second run folder (a copy of this one) to compare against.
        run_dir = app.current_run.run_dir  # type: ignore[union-attr]
        shutil.copytree(run_dir, run_dir.with_name(run_dir.name + "-copy"))
        await pilot.press("c")
        await wait_for(pilot, lambda: on(app, RunsScreen), "past runs (c)")
        runs = app.screen
        assert isinstance(runs, RunsScreen) and len(runs.runs) == 2
        await pilot.press("space", "down", "space", "c")
        await wait_for(pilot, lambda: on(app, CompareScreen), "the comparison")
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert set(compare.labels) == {run_dir.name, run_dir.name + "-copy"}
        body = "\n".join(widget_lines(compare.query_one("#compare-view")))
        assert "figures" in body and "resilience.fallback" in body
        await pilot.press("escape")
        await wait_for(pilot, lambda: on(app, RunsScreen), "back to the runs")
        await pilot.press("enter")  # open a past run's scorecard over this one
        await wait_for(
            pilot, lambda: on(app, ScorecardScreen) and app.screen is not scorecard, "a past run"
        )
        await pilot.press("n")
        await wait_for(pilot, lambda: on(app, HomeScreen), "n: the picker")
        await pilot.press("q")


async def test_lab_report_tui_opens_a_past_run(catalog: Catalog) -> None:
    from gaplab.tui.past import scored_from_folder

    first = GaplabApp(run=catalog.build_run("blip"))
    first.final_pause = 0.1
    async with first.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: on(first, ScorecardScreen), "the scorecard", within=40)
        await pilot.press("q")
    run_dir = first.current_run.run_dir  # type: ignore[union-attr]
    past = GaplabApp(past=scored_from_folder(run_dir))
    async with past.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: on(past, ScorecardScreen), "the past scorecard")
        headline = str(past.screen.query_one("#headline").render())
        assert headline == first.finished.report["verdict"]["headline"]  # type: ignore[union-attr]
        assert f"report: {run_dir / 'report.json'}" in str(
            past.screen.query_one("#report-notes").render()
        )
        await pilot.press("q")
