"""The picker (bare `lab`): bundled scenarios on the left, targets on the right.

Enter on a scenario (or `r`) asks the app to run it against the highlighted target; the
screen only posts `RunRequested`, the app builds and owns the run.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from gaplab.tui.catalog import SCENARIO_TARGET, Catalog

INTRO = (
    "Pick a scenario and a target, then press [b]enter[/b] on the scenario (or [b]r[/b]). "
    "The run is the same as `lab run`; its reports go to the runs folder."
)


def target_prompt(label: str) -> str:
    return "the scenario's own target" if label == SCENARIO_TARGET else label


class HomeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "run_selected",
            "Run",
            id="home.run",
            tooltip="Run the highlighted scenario against the highlighted target",
        ),
    ]

    class RunRequested(Message):
        def __init__(self, scenario: str, target: str) -> None:
            super().__init__()
            self.scenario = scenario
            self.target = target

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(id="home")
        self.catalog = catalog

    def compose(self) -> ComposeResult:
        yield Static(INTRO, id="home-intro")
        with Horizontal(id="home-lists"):
            scenarios = OptionList(
                *(Option(self.catalog.describe_scenario(n), id=n) for n in self.catalog.scenarios),
                id="scenarios",
            )
            scenarios.border_title = "scenarios"
            yield scenarios
            targets = OptionList(
                *(Option(target_prompt(t), id=t or "scenario") for t in self.catalog.targets),
                id="targets",
            )
            targets.border_title = "targets"
            yield targets
        yield Footer()

    def on_mount(self) -> None:
        for option_list in self.query(OptionList):
            if option_list.option_count:
                option_list.highlighted = 0
        self.query_one("#scenarios", OptionList).focus()

    def selected(self) -> tuple[str, str] | None:
        """(scenario name, target label) highlighted now, or None if nothing is."""
        scenarios = self.query_one("#scenarios", OptionList)
        targets = self.query_one("#targets", OptionList)
        if scenarios.highlighted is None:
            return None
        scenario = scenarios.get_option_at_index(scenarios.highlighted).id
        assert scenario is not None
        target = SCENARIO_TARGET
        if targets.highlighted is not None:
            target = self.catalog.targets[targets.highlighted]
        return scenario, target

    def action_run_selected(self) -> None:
        choice = self.selected()
        if choice is None:
            self.notify("No scenario to run", severity="warning")
            return
        self.post_message(self.RunRequested(*choice))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "scenarios":
            self.action_run_selected()
        else:
            self.query_one("#scenarios", OptionList).focus()
