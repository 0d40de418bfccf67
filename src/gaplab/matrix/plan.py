"""What `lab matrix` plays: the ownership table (gaplab.demo.ownership, or a file standing in
for it), the defences picked with `--only`, and one job per target of each exercise (the
hardened baseline once, then each removal), each with its own scenario copy.

A copy is the bundled scenario with the exercise's interface, without its dropped phases,
and with every phase scaled like tests/e2e/short.py does (times `scale`, never below the
exercise's shortest scale nor its minimum phase length). Each job's copy is named after
the job (`outage`, `outage.without-breaker`), so concurrent runs of one exercise get run
folders of their own names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gaplab.demo.options import DEFENCES
from gaplab.demo.ownership import EXERCISES, OWNERSHIP, Exercise
from gaplab.errors import InputError
from gaplab.scenario.durations import parse_duration
from gaplab.scenario.library import bundled_scenarios

Ownership = Mapping[str, Mapping[str, frozenset[str]]]


@dataclass(frozen=True)
class Job:
    """One `lab run` of the matrix: an exercise against the baseline or one removal."""

    exercise: str
    defence: str | None  # None: the hardened baseline with every defence

    @property
    def name(self) -> str:
        """The scenario copy's name, and so the stem of its run folder."""
        if self.defence is None:
            return self.exercise
        return f"{self.exercise}.without-{self.defence.replace('_', '-')}"

    def target(self, exercise: Exercise) -> str:
        options = [exercise.options] if exercise.options else []
        if self.defence is not None:
            options.append(f"without={self.defence}")
        return "demo:hardened" + ("?" + "&".join(options) if options else "")


def owners_by_exercise(ownership: Ownership) -> dict[str, dict[str, frozenset[str]]]:
    """The table turned round: exercise -> {defence: the checks its removal fails}."""
    turned: dict[str, dict[str, frozenset[str]]] = {}
    for defence, exercises in ownership.items():
        for exercise, checks in exercises.items():
            turned.setdefault(exercise, {})[defence] = frozenset(checks)
    return turned


def pick_defences(ownership: Ownership, only: Iterable[str] = ()) -> list[str]:
    """The defences to play, in the table's order; `only` names must be in the table."""
    wanted = [name.strip() for item in only for name in item.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in ownership]
    if unknown:
        raise InputError(
            f"--only: unknown defence {', '.join(repr(u) for u in unknown)}; "
            f"the defences of demo:hardened are: {', '.join(ownership)}"
        )
    return [name for name in ownership if not wanted or name in wanted]


def plan_jobs(ownership: Ownership, defences: Iterable[str]) -> list[Job]:
    """Each exercise's baseline once, then every removal over the exercises it owns;
    the longest exercises first, so the last ones to finish are short."""
    picked = list(defences)
    exercises = sorted(
        {e for d in picked for e in ownership[d]},
        key=lambda name: (-_length(EXERCISES[name]), name),
    )
    jobs: list[Job] = []
    for exercise in exercises:
        jobs.append(Job(exercise, None))
        jobs += [Job(exercise, d) for d in picked if exercise in ownership[d]]
    return jobs


def _length(exercise: Exercise) -> float:
    document = yaml.safe_load(bundled_scenarios()[exercise.scenario].read_text())
    return sum(_seconds(p["for"]) for p in document["phases"])


def _seconds(value: object) -> float:
    return parse_duration(str(value))


def write_scenario(exercise: Exercise, name: str, scale: float, into: Path) -> Path:
    """The exercise's scenario copy named `name`, phases scaled, written under `into`."""
    bundled = bundled_scenarios()[exercise.scenario]
    document: dict[str, Any] = yaml.safe_load(bundled.read_text())
    document["name"] = name
    document["interface"] = exercise.interface
    document["phases"] = [p for p in document["phases"] if p["name"] not in exercise.drop_phases]
    factor = max(scale, exercise.shortest)
    if factor < 1.0:
        for phase in document["phases"]:
            seconds = _seconds(phase["for"])
            phase["for"] = f"{max(exercise.min_phase, round(seconds * factor, 1))}s"
    into.mkdir(parents=True, exist_ok=True)
    path = into / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def load_ownership(path: Path | None) -> dict[str, dict[str, frozenset[str]]]:
    """The built-in table, or a JSON or YAML file of the same shape
    (`{defence: {exercise: [check, ...]}}`) that stands in for it, validated: defences of
    demo:hardened, exercises of gaplab.demo.ownership.EXERCISES."""
    if path is None:
        return {d: dict(e) for d, e in OWNERSHIP.items()}
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(f"--ownership {path}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"--ownership {path}: expected a mapping of defence to exercises")
    table: dict[str, dict[str, frozenset[str]]] = {}
    for defence, exercises in data.items():
        where = f"--ownership {path}: {defence}"
        if defence not in DEFENCES:
            raise InputError(f"{where}: not a defence of demo:hardened")
        if not isinstance(exercises, dict):
            raise InputError(f"{where}: expected a mapping of exercise to check ids")
        table[defence] = {}
        for exercise, checks in exercises.items():
            if exercise not in EXERCISES:
                raise InputError(f"{where}.{exercise}: unknown exercise")
            if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
                raise InputError(f"{where}.{exercise}: expected a list of check ids")
            table[defence][exercise] = frozenset(checks)
    return table
