"""What the picker offers (scenarios, suites and targets) and how a choice becomes a
`LabRun` (or, for a suite, a `SuiteRun`: `Catalog.build_suite`, as `lab run SUITE` does).

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
from gaplab.suite.runner import SuiteRun
from gaplab.target.resolve import resolve_target

SCENARIO_TARGET = ""  # target label meaning "the target the scenario file names"
SUITE_PREFIX = "suite:"  # a suite's id among the scenarios: "suite:readiness"
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


@dataclass(frozen=True)
class SuiteDetails:
    name: str
    title: str
    description: str
    target: str
    seconds: float  # the planned wall time: each scenario's expected time, `concurrency` at once
    concurrency: int
    time_scale: float
    scenarios: tuple[tuple[str, float], ...]  # (name, expected seconds), longest first


def suite_details(run: SuiteRun) -> SuiteDetails:
    suite = run.suite
    expected = tuple((e.name, run.expected(e)) for e in run.order)
    return SuiteDetails(
        name=suite.suite,
        title=suite.title or suite.suite,
        description=suite.description.strip(),
        target=suite.target,
        seconds=sum(s for _, s in expected) / run.concurrency,
        concurrency=run.concurrency,
        time_scale=run.time_scale,
        scenarios=expected,
    )


@dataclass
class Catalog:
    scenarios: dict[str, Path]  # name -> scenario file
    targets: tuple[str, ...]  # target labels (demo:naive, a file path, ...)
    runs_dir: Path = Path("runs")
    defences: tuple[str, ...] = ()  # what demo:hardened can run without
    suites: dict[str, Path] = field(default_factory=dict)  # name -> suite file
    _details: dict[str, ScenarioDetails | SuiteDetails | str] = field(
        default_factory=dict, repr=False
    )

    def choices(self) -> list[str]:
        """What the picker lists: every scenario's name, then `suite:NAME` per suite."""
        return [*self.scenarios, *(SUITE_PREFIX + name for name in self.suites)]

    def details(self, name: str) -> ScenarioDetails | SuiteDetails | str:
        """The scenario's phases, faults and checks (a suite's scenarios), or the problem
        if it does not load."""
        if name.startswith(SUITE_PREFIX) and name not in self._details:
            try:
                self._details[name] = suite_details(self.build_suite(name))
            except InputError as exc:
                self._details[name] = f"invalid: {exc}"
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
        if isinstance(found, SuiteDetails):
            count = len(found.scenarios)
            return f"{name}  {found.title} ({count} scenarios, about {found.seconds / 60:.0f} min)"
        return f"{name}  {found.title} ({found.seconds:g}s)"

    def build_suite(self, name: str, target: str = SCENARIO_TARGET) -> SuiteRun:
        """`suite:NAME` as `lab run NAME --target TARGET` plays it (the suite's own target
        when `target` is empty). Raises `InputError` as `lab run` would."""
        from gaplab.suite.loading import load_suite

        path = self.suites[name.removeprefix(SUITE_PREFIX)]
        return SuiteRun(load_suite(path, target=target or None), self.runs_dir)

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
    from gaplab.resources import bundled_dir
    from gaplab.suite.loading import bundled_suites

    return Catalog(
        scenarios=bundled_scenarios(),
        targets=(SCENARIO_TARGET, *(f"demo:{name}" for name in DEMO_NAMES)),
        runs_dir=runs_dir,
        defences=tuple(DEFENCES),
        suites={name: bundled_dir("scenarios") / f"{name}.yaml" for name in bundled_suites()},
    )
