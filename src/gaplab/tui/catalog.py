"""What the picker offers (scenarios and targets) and how a choice becomes a `LabRun`.

Textual-free on purpose: the app and the tests build runs through `Catalog.build_run`, the
same path `lab run` takes (load and validate the scenario, resolve the target). A local
file is checked the way `lab validate` checks it, and its problems are returned as text
(file:line:column: field: message) for the picker to show, never raised past it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gaplab.engine.run import LabRun, RunOptions
from gaplab.errors import InputError
from gaplab.scenario.library import bundled_scenarios, load_scenario
from gaplab.scenario.models import Scenario
from gaplab.target.resolve import resolve_target

SCENARIO_TARGET = ""  # target label meaning "the target the scenario file names"
HARDENED = "demo:hardened"


def target_with(label: str, without: list[str] | tuple[str, ...]) -> str:
    """`demo:hardened?without=a,b` when defences are removed, else the label as it is."""
    if label != HARDENED or not without:
        return label
    return f"{label}?without={','.join(without)}"


@dataclass(frozen=True)
class PhaseLine:
    name: str
    seconds: float
    faults: tuple[str, ...]
    load: str  # "20 users", "50/s", or "" (the scenario's load)


@dataclass(frozen=True)
class ScenarioDetails:
    name: str
    title: str
    description: str
    target: str
    seconds: float
    load: str
    phases: tuple[PhaseLine, ...]
    checks: tuple[str, ...]


def details_of(model: Scenario) -> ScenarioDetails:
    load = model.load
    if load.open:
        crowd = f"open arrivals, up to {load.max_in_flight} in flight"
    else:
        crowd = f"{load.users} users, think {load.think:g} s"
    phases = tuple(
        PhaseLine(
            p.name,
            p.duration,
            tuple(f.describe() for f in p.faults),
            f"{p.users} users"
            if p.users is not None
            else (f"{p.arrival:g}/s" if p.arrival else ""),
        )
        for p in model.phases
    )
    return ScenarioDetails(
        name=model.name,
        title=model.title,
        description=model.description.strip(),
        target=model.target,
        seconds=model.duration,
        load=crowd,
        phases=phases,
        checks=tuple(c.id for c in model.checks),
    )


@dataclass
class Catalog:
    scenarios: dict[str, Path]  # name -> scenario file
    targets: tuple[str, ...]  # target labels (demo:naive, a file path, ...)
    runs_dir: Path = Path("runs")
    defences: tuple[str, ...] = ()  # what demo:hardened can run without
    _details: dict[str, ScenarioDetails | str] = field(default_factory=dict, repr=False)

    def details(self, name: str) -> ScenarioDetails | str:
        """The scenario's phases, faults and checks, or the problem if it does not load."""
        if name not in self._details:
            try:
                model, _ = load_scenario(str(self.scenarios.get(name, name)))
            except InputError as exc:
                self._details[name] = f"invalid: {exc}"
            else:
                self._details[name] = details_of(model)
        return self._details[name]

    def describe_scenario(self, name: str) -> str:
        """`name  title (45s)`, or the problem if the file does not load (shown, not raised)."""
        found = self.details(name)
        if isinstance(found, str):
            return f"{name}  ({found})"
        return f"{name}  {found.title} ({found.seconds:g}s)"

    def build_run(
        self,
        scenario: str,
        target: str = SCENARIO_TARGET,
        *,
        seed: int | None = None,
        network_proxy: bool = True,
    ) -> LabRun:
        """Raises `InputError` for an invalid scenario or target, like `lab run` does. A run
        built here routes the provider through the proxy, so a network cut can be applied
        by hand."""
        model, path = load_scenario(str(self.scenarios.get(scenario, scenario)))
        label = target or model.target
        target_file = resolve_target(label, relative_to=path.parent, interface=model.interface)
        return LabRun(
            RunOptions(
                scenario=model,
                target=target_file,
                target_label=label,
                seed=seed,
                runs_dir=self.runs_dir,
                network_proxy=network_proxy,
            )
        )

    def add_file(self, path: Path) -> tuple[str, str]:
        """Add a local scenario or target file: ("scenario", name) or ("target", label).
        Raises `InputError` with every problem `lab validate` would print."""
        from gaplab.scenario.library import check_scenario
        from gaplab.scenario.loader import read_document
        from gaplab.scenario.target_models import TargetFile
        from gaplab.target.resolve import check_target

        document = read_document(path)
        data = document.data
        if isinstance(data, dict) and "request" in data and "phases" not in data:
            target = document.validate(TargetFile)
            check_target(target, document.file, document.positions)
            label = str(path)
            if label not in self.targets:
                self.targets = (*self.targets, label)
            return "target", label
        model = document.validate(Scenario)
        check_scenario(model, document)
        self.scenarios[model.name] = path
        self._details.pop(model.name, None)
        return "scenario", model.name


def default_catalog(runs_dir: Path = Path("runs")) -> Catalog:
    from gaplab.demo.options import DEFENCES
    from gaplab.demo.spec import DEMO_NAMES

    return Catalog(
        scenarios=bundled_scenarios(),
        targets=(SCENARIO_TARGET, *(f"demo:{name}" for name in DEMO_NAMES)),
        runs_dir=runs_dir,
        defences=tuple(DEFENCES),
    )
