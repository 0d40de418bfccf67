"""Find and load lessons: the bundled `workshop/` folder (next to scenarios/, shipped in
the wheel) or a folder of the presenter's own. Every problem names its file, line and
field; a lesson naming a defence or a check that does not exist is a problem at that
key's line, like a scenario's unknown check id. A scenario that is not installed is not
an error of the lesson file (the lesson may be newer than the install): `missing_scenario`
says so, and the lesson cannot be run until it is there."""

from __future__ import annotations

from pathlib import Path

from gaplab.errors import InputError, Problem
from gaplab.resources import bundled_dir
from gaplab.scenario.loader import Document, load_document, problem_at
from gaplab.workshop.models import Lesson


def lessons_dir() -> Path:
    return bundled_dir("workshop")


def _check(lesson: Lesson, document: Document, path: Path) -> list[Problem]:
    from gaplab.checks.registry import CHECKS
    from gaplab.demo.options import DEFENCES

    def at(key: tuple[str | int, ...], message: str) -> Problem:
        return problem_at(document.file, document.positions, key, message)

    problems = []
    for index, name in enumerate(lesson.defences):
        if name not in DEFENCES:
            problems.append(
                at(("defences", index), f"no defence {name!r} (defences: {', '.join(DEFENCES)})")
            )
    for index, check in enumerate(lesson.watch):
        if check not in CHECKS:
            problems.append(at(("watch", index), f"no check {check!r}"))
    return problems


def missing_scenario(lesson: Lesson, folder: Path | None = None) -> str | None:
    """Why the lesson's scenario cannot be run here, or None."""
    from gaplab.scenario.library import bundled_scenarios

    folder = folder or lessons_dir()
    if lesson.scenario in bundled_scenarios() or (folder / lesson.scenario).is_file():
        return None
    return f"needs the scenario {lesson.scenario!r}, which this install does not have"


def load_lesson(path: Path) -> Lesson:
    lesson, document = load_document(path, Lesson)
    problems = _check(lesson, document, path)
    if problems:
        raise InputError(problems)
    return lesson


def scenario_path(lesson: Lesson, folder: Path) -> str:
    """What to hand `load_scenario`: a file next to the lesson, else the bundled name."""
    local = folder / lesson.scenario
    return str(local) if local.is_file() else lesson.scenario


def load_lessons(folder: Path | None = None) -> list[Lesson]:
    """Every lesson of `folder` (default: the bundled ones), in `order`; raises one
    `InputError` listing every problem of every file."""
    folder = folder or lessons_dir()
    lessons, problems = [], []
    for path in sorted(folder.glob("*.yaml")):
        try:
            lessons.append(load_lesson(path))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    names = [lesson.name for lesson in lessons]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"{folder}: lesson names must be unique, repeated: {', '.join(repeated)}")
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.name))
