"""The picker (bare `lab`): scenarios, the highlighted one's phases, faults and checks, and
the target: a demo (with `demo:hardened`'s defences to switch off), a seed, or a local
scenario or target file (its problems shown as `file:line:column: field: message`).

The bundled suites (`suite:readiness`) are listed after the scenarios: the highlighted one
shows its scenarios and planned time, and runs on the suite screen.

Enter on a scenario or a target (or `r`) asks the app to run the choice; the screen only
posts `RunRequested`, the app builds and owns the run and remembers the choice.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from gaplab.errors import InputError
from gaplab.tui.catalog import (
    HARDENED,
    SCENARIO_TARGET,
    Catalog,
    ScenarioDetails,
    SuiteDetails,
    target_with,
)
from gaplab.tui.state import LastChoice
from gaplab.tui.suite_rows import clock

INTRO = (
    "Pick a scenario and a target, then press [b]enter[/b] (or [b]r[/b]). The run is the same "
    "as `lab run`; its reports go to the runs folder. [b]?[/b] shows every key."
)


def target_prompt(label: str) -> str:
    return "the scenario's own target" if label == SCENARIO_TARGET else label


def suite_renderable(details: SuiteDetails) -> RenderableType:
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    table.add_column("scenario", no_wrap=True)
    table.add_column("expected", justify="right", no_wrap=True)
    for name, seconds in details.scenarios:
        table.add_row(name, clock(seconds))
    parts: list[RenderableType] = [
        Text(details.title, style="bold"),
        Text(
            f"suite · {len(details.scenarios)} scenarios, {details.concurrency} at a time · "
            f"time scale {details.time_scale:g} · about {clock(details.seconds)} · "
            f"default target {details.target}",
            style="dim",
        ),
    ]
    if details.description:
        parts += [Text(""), Text(details.description)]
    return Group(*parts, Text(""), table)


def details_renderable(details: ScenarioDetails | SuiteDetails | str) -> RenderableType:
    if isinstance(details, str):
        return Text(details, style="bold red")
    if isinstance(details, SuiteDetails):
        return suite_renderable(details)
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    table.add_column("phase", no_wrap=True)
    table.add_column("for", justify="right", no_wrap=True)
    table.add_column("faults", overflow="fold", ratio=1)
    for phase in details.phases:
        load = f" ({phase.load})" if phase.load else ""
        table.add_row(phase.name + load, f"{phase.seconds:g} s", "; ".join(phase.faults) or "none")
    parts: list[RenderableType] = [
        Text(details.title, style="bold"),
        Text(
            f"{details.seconds:g} s · {details.load} · default target {details.target}",
            style="dim",
        ),
    ]
    if details.description:
        parts += [Text(""), Text(details.description)]
    parts += [Text(""), table, Text(""), Text("checks", style="bold")]
    parts += [Text(f"  {check}") for check in details.checks] or [Text("  none")]
    return Group(*parts)


class HomeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "run_selected",
            "Run",
            id="home.run",
            tooltip="Run the highlighted scenario against the highlighted target",
        ),
        Binding(
            "o", "app.open_runs", "Past runs", id="home.runs", tooltip="Open or compare past runs"
        ),
        Binding(
            "w",
            "app.workshop",
            "Workshop",
            id="home.workshop",
            tooltip="The workshop's lessons: one failure story each, naive then hardened",
        ),
    ]

    class RunRequested(Message):
        def __init__(
            self, scenario: str, target: str, seed: int | None, choice: LastChoice
        ) -> None:
            super().__init__()
            self.scenario = scenario
            self.target = target
            self.seed = seed
            self.choice = choice

    def __init__(self, catalog: Catalog, last: LastChoice | None = None) -> None:
        super().__init__()
        self.catalog = catalog
        self.last = last or LastChoice()

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        yield Static(INTRO, id="home-intro")
        with Horizontal(id="home-lists"):
            scenarios = OptionList(*self._scenario_options(), id="scenarios")
            scenarios.border_title = "scenarios"
            yield scenarios
            with VerticalScroll(id="scenario-details", can_focus=True):
                yield Static("", id="scenario-details-body")
            with Vertical(id="home-right"):
                targets = OptionList(*self._target_options(), id="targets")
                targets.border_title = "targets"
                yield targets
                defences: SelectionList[str] = SelectionList(
                    *(
                        (name, name, name not in self.last.without)
                        for name in self.catalog.defences
                    ),
                    id="defences",
                )
                defences.border_title = "demo:hardened defences (space: on/off)"
                yield defences
                yield Input(
                    str(self.last.seed) if self.last.seed is not None else "",
                    placeholder="seed (default: the scenario's)",
                    id="seed",
                    type="integer",
                )
                yield Input(
                    self.last.file,
                    placeholder="a scenario or target file, then enter",
                    id="file",
                )
                yield Static("", id="file-problems")
        yield Footer()

    def _scenario_options(self) -> list[Option]:
        return [Option(self.catalog.describe_scenario(n), id=n) for n in self.catalog.choices()]

    def _target_options(self) -> list[Option]:
        return [Option(target_prompt(t), id=t or "scenario") for t in self.catalog.targets]

    def on_mount(self) -> None:
        self.title = "gaplab"
        self.sub_title = "pick a scenario and a target"
        self.query_one("#home-right").border_title = "target · seed · local file"
        scenarios = self.query_one("#scenarios", OptionList)
        targets = self.query_one("#targets", OptionList)
        names = self.catalog.choices()
        if scenarios.option_count:
            last = names.index(self.last.scenario) if self.last.scenario in names else 0
            scenarios.highlighted = last
        if targets.option_count:
            labels = list(self.catalog.targets)
            targets.highlighted = (
                labels.index(self.last.target) if self.last.target in labels else 0
            )
        self._show_details()
        self._show_defences()
        self._fit(self.app.size.width)
        scenarios.focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        """Below 120 columns the details pane goes (app.tcss): two lists stay readable."""
        self.set_class(width < 120, "small")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "scenarios":
            self._show_details()
        else:
            self._show_defences()

    def _show_details(self) -> None:
        scenarios = self.query_one("#scenarios", OptionList)
        if scenarios.highlighted is None:
            return
        name = scenarios.get_option_at_index(scenarios.highlighted).id or ""
        body = details_renderable(self.catalog.details(name))
        self.query_one("#scenario-details-body", Static).update(body)
        self.query_one("#scenario-details").border_title = name

    def _target(self) -> str:
        targets = self.query_one("#targets", OptionList)
        if targets.highlighted is None:
            return SCENARIO_TARGET
        return self.catalog.targets[targets.highlighted]

    def _show_defences(self) -> None:
        self.query_one("#defences").display = self._target() == HARDENED and bool(
            self.catalog.defences
        )

    def removed_defences(self) -> list[str]:
        selection: SelectionList[str] = self.query_one("#defences", SelectionList)
        kept = set(selection.selected)
        return [name for name in self.catalog.defences if name not in kept]

    def seed(self) -> int | None:
        text = self.query_one("#seed", Input).value.strip()
        try:
            return int(text) if text else None
        except ValueError:
            return None

    def selected(self) -> tuple[str, str] | None:
        """(scenario name, target label) highlighted now, or None if nothing is."""
        scenarios = self.query_one("#scenarios", OptionList)
        if scenarios.highlighted is None:
            return None
        scenario = scenarios.get_option_at_index(scenarios.highlighted).id
        assert scenario is not None
        target = self._target()
        return scenario, target_with(target, self.removed_defences())

    def action_run_selected(self) -> None:
        choice = self.selected()
        if choice is None:
            self.notify("No scenario to run", severity="warning")
            return
        scenario, target = choice
        last = LastChoice(
            scenario=scenario,
            target=self._target(),
            seed=self.seed(),
            without=self.removed_defences(),
            file=self.query_one("#file", Input).value.strip(),
        )
        self.post_message(self.RunRequested(scenario, target, self.seed(), last))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_run_selected()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "file":
            self.add_file(event.value.strip())
        else:
            self.action_run_selected()

    def add_file(self, text: str) -> None:
        """Validate a local file and add it to the lists; its problems are shown."""
        problems = self.query_one("#file-problems", Static)
        if not text:
            problems.update("")
            return
        try:
            kind, name = self.catalog.add_file(Path(text).expanduser())
        except InputError as exc:
            lines = [str(p).removeprefix(": ") for p in exc.problems]
            problems.update(Text("\n".join(lines), style="bold red"))
            return
        problems.update(Text(f"added the {kind} {name}", style="green"))
        option_list = self.query_one("#scenarios" if kind == "scenario" else "#targets", OptionList)
        option_list.clear_options()
        option_list.add_options(
            self._scenario_options() if kind == "scenario" else self._target_options()
        )
        ids = list(self.catalog.scenarios) if kind == "scenario" else list(self.catalog.targets)
        option_list.highlighted = ids.index(name)
        option_list.focus()
