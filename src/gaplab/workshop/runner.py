"""A lesson's runs and what they show: the scenario on the naive target, then on the
hardened one, and the side-by-side comparison of the two reports (report/compare.py),
with the lesson's watched checks first.

`lesson_runs` says what to run; `build_run` makes a `LabRun` the same way `lab run` does
(so a lesson's run is an ordinary run, in the runs folder, with its reports);
`lesson_outcome` turns the two finished reports into the comparison a room looks at.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gaplab.engine.run import LabRun, RunOptions
from gaplab.report.compare import compare
from gaplab.report.figures import VERDICT_LABEL
from gaplab.scenario.library import load_scenario
from gaplab.target.resolve import resolve_target
from gaplab.workshop.library import lessons_dir, scenario_path
from gaplab.workshop.models import Lesson


@dataclass(frozen=True)
class LessonRun:
    label: str  # "naive" | "hardened"
    scenario: str  # a bundled name or a path
    target: str


def lesson_runs(lesson: Lesson, folder: Path | None = None) -> list[LessonRun]:
    scenario = scenario_path(lesson, folder or lessons_dir())
    return [
        LessonRun("naive", scenario, lesson.naive),
        LessonRun("hardened", scenario, lesson.hardened),
    ]


def planned_seconds(run: LessonRun) -> float:
    model, _ = load_scenario(run.scenario)
    return float(model.duration)


def build_run(
    run: LessonRun, runs_dir: Path, *, seed: int | None = None, network_proxy: bool = False
) -> LabRun:
    """Raises `InputError` for a scenario or target that does not load."""
    model, path = load_scenario(run.scenario)
    target = resolve_target(run.target, relative_to=path.parent, interface=model.interface)
    return LabRun(
        RunOptions(
            scenario=model,
            target=target,
            target_label=run.target,
            seed=seed,
            runs_dir=runs_dir,
            network_proxy=network_proxy,
        )
    )


@dataclass(frozen=True)
class WatchedCheck:
    id: str
    naive: str  # verdict label, "-" when the check was not in that run
    hardened: str
    naive_summary: str
    hardened_summary: str


@dataclass(frozen=True)
class LessonOutcome:
    naive_headline: str
    hardened_headline: str
    watched: tuple[WatchedCheck, ...]
    comparison: dict[str, Any]  # gaplab.report.compare.compare(naive, hardened)


def lesson_outcome(
    lesson: Lesson, naive: dict[str, Any], hardened: dict[str, Any]
) -> LessonOutcome:
    comparison = compare(naive, hardened)
    by_naive = {c["id"]: c for c in naive["checks"]}
    by_hardened = {c["id"]: c for c in hardened["checks"]}
    watched = lesson.watch or tuple(c["id"] for c in comparison["changed"])
    rows = []
    for check_id in watched:
        a, b = by_naive.get(check_id), by_hardened.get(check_id)
        rows.append(
            WatchedCheck(
                check_id,
                VERDICT_LABEL.get(a["verdict"], "-") if a else "-",
                VERDICT_LABEL.get(b["verdict"], "-") if b else "-",
                a["summary"] if a else "",
                b["summary"] if b else "",
            )
        )
    return LessonOutcome(
        comparison["a"]["headline"], comparison["b"]["headline"], tuple(rows), comparison
    )


def list_text(lessons: list[Lesson], folder: Path | None = None) -> str:
    """`lab workshop --list`: the lessons in order, plain text (`folder`: where they are)."""
    from gaplab.workshop.library import missing_scenario

    lines = []
    for number, lesson in enumerate(lessons, 1):
        defences = ", ".join(lesson.defences) or "-"
        missing = missing_scenario(lesson, folder)
        lines.append(f"{number}. {lesson.title}  [{lesson.name}]")
        lines.append(f"   scenario {lesson.scenario}: {lesson.naive} then {lesson.hardened}")
        lines.append(f"   defences: {defences}")
        predict = textwrap.fill(
            lesson.prediction, width=88, initial_indent="   predict: ", subsequent_indent="   "
        )
        lines.append(predict)
        if missing:
            lines.append(f"   not runnable here: {missing}")
    return "\n".join(lines)
