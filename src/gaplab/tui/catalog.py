"""What the picker offers (scenarios and targets) and how a choice becomes a `LabRun`.

Textual-free on purpose: the app and the tests build runs through `Catalog.build_run`, the
same path `lab run` takes (load and validate the scenario, resolve the target).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gaplab.engine.run import LabRun, RunOptions
from gaplab.scenario.library import bundled_scenarios, load_scenario
from gaplab.target.resolve import resolve_target

SCENARIO_TARGET = ""  # target label meaning "the target the scenario file names"


@dataclass(frozen=True)
class Catalog:
    scenarios: dict[str, Path]  # name -> scenario file
    targets: tuple[str, ...]  # target labels (demo:naive, a file path, ...)
    runs_dir: Path = Path("runs")

    def describe_scenario(self, name: str) -> str:
        """`name  title`, or the problem if the file does not load (shown, not raised)."""
        from gaplab.errors import InputError

        try:
            model, _ = load_scenario(str(self.scenarios[name]))
        except InputError as exc:
            return f"{name}  (invalid: {exc})"
        return f"{name}  {model.title} ({model.duration:g}s, target {model.target})"

    def build_run(self, scenario: str, target: str = SCENARIO_TARGET) -> LabRun:
        """Raises `InputError` for an invalid scenario or target, like `lab run` does."""
        model, path = load_scenario(str(self.scenarios.get(scenario, scenario)))
        label = target or model.target
        target_file = resolve_target(label, relative_to=path.parent, interface=model.interface)
        return LabRun(
            RunOptions(
                scenario=model, target=target_file, target_label=label, runs_dir=self.runs_dir
            )
        )


def default_catalog(runs_dir: Path = Path("runs")) -> Catalog:
    from gaplab.demo.spec import DEMO_NAMES

    return Catalog(
        scenarios=bundled_scenarios(),
        targets=(SCENARIO_TARGET, *(f"demo:{name}" for name in DEMO_NAMES)),
        runs_dir=runs_dir,
    )
