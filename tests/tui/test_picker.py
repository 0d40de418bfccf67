"""Bare `lab`: the picker lists the bundled scenarios and demo targets, starts a real run
from a choice, and comes back to the picker after the scorecard."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.widgets import OptionList

from gaplab.demo.spec import DEMO_NAMES
from gaplab.exit_codes import ExitCode
from gaplab.scenario.library import bundled_scenarios
from gaplab.tui.app import GaplabApp
from gaplab.tui.catalog import SCENARIO_TARGET, Catalog, default_catalog
from gaplab.tui.screens.home import HomeScreen
from gaplab.tui.screens.live import LiveRunScreen
from gaplab.tui.screens.scorecard import ScorecardScreen

from .conftest import SIZE, wait_for


async def test_the_picker_lists_bundled_scenarios_and_demo_targets(tmp_path: Path) -> None:
    app = GaplabApp(catalog=default_catalog(tmp_path / "runs"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "the picker")
        scenarios = app.screen.query_one("#scenarios", OptionList)
        targets = app.screen.query_one("#targets", OptionList)
        names = [scenarios.get_option_at_index(i).id for i in range(scenarios.option_count)]
        assert names == [*bundled_scenarios(), "suite:readiness"] and "outage" in names
        # the readiness suite, after the scenarios: its scenarios and planned time
        suite = scenarios.get_option_at_index(names.index("suite:readiness"))
        assert "34 scenarios" in str(suite.prompt)
        labels = [targets.get_option_at_index(i).id for i in range(targets.option_count)]
        assert labels == ["scenario", *(f"demo:{n}" for n in DEMO_NAMES)]
        outage = scenarios.get_option_at_index(names.index("outage"))
        assert "503" in str(outage.prompt)  # the scenario's title, read from its file
        await pilot.press("q")
    assert app.return_code == ExitCode.READY  # nothing was run


async def test_a_run_started_from_the_picker_returns_to_it(catalog: Catalog) -> None:
    app = GaplabApp(catalog=catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "the picker")
        home = app.screen
        assert home.selected() == ("blip", SCENARIO_TARGET)
        # As a user would: tab past the details to the targets, pick the second, back, enter.
        await pilot.press("tab", "tab", "down", "shift+tab", "shift+tab", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LiveRunScreen), "the live screen")
        assert app.current_run is not None
        assert app.current_run.options.target_label == catalog.targets[1]
        # While a run is going, no second run can be started from the palette.
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Stop the run" in titles and not any(t.startswith("Run ") for t in titles)
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen), "the scorecard")
        assert app.exit_code is ExitCode.NOT_READY
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "New run" in titles
        assert f"Run long against {catalog.targets[1]}" in titles
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "the picker again")
        await pilot.press("q")
    assert app.return_code == ExitCode.NOT_READY  # the last run's verdict


async def test_an_invalid_scenario_is_reported_and_nothing_runs(
    catalog: Catalog, data_dir: Path
) -> None:
    broken = data_dir / "broken.yaml"
    broken.write_text("version: 1\nname: broken\ntitle: Broken\nphases: []\n")
    app = GaplabApp(catalog=Catalog({"broken": broken}, catalog.targets, catalog.runs_dir))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), "the picker")
        assert "invalid" in str(
            app.screen.query_one("#scenarios", OptionList).get_option_at_index(0).prompt
        )
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(app._notifications), "an error notification")
        (notice,) = list(app._notifications)
        assert notice.title == "cannot run" and "broken.yaml" in notice.message
        assert isinstance(app.screen, HomeScreen) and app.current_run is None
        await pilot.press("q")
    assert app.return_code == ExitCode.READY


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    from gaplab.tui.screens.scorecard import ScorecardScreen as Scorecard

    for owner in (GaplabApp, HomeScreen, LiveRunScreen, Scorecard):
        bindings = [b for b in owner.BINDINGS if isinstance(b, Binding)]
        assert bindings, owner
        for binding in bindings:
            assert binding.id and binding.tooltip, (owner.__name__, binding.key)
