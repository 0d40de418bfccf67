"""Find and load scenarios: a path, or the name of a bundled scenario (`lab run outage`).

`load_scenario` runs every check a run depends on before anything starts: the file's
models, the check ids and options, and the provider profile it names; each problem is
located at its line and column in the scenario file.
"""

from __future__ import annotations

import re
from pathlib import Path

from gaplab.checks.registry import validate_checks
from gaplab.errors import InputError, Problem
from gaplab.resources import bundled_dir
from gaplab.scenario.loader import Document, load_document, problem_at
from gaplab.scenario.models import Scenario
from gaplab.scenario.target_models import TargetFile


def bundled_scenarios() -> dict[str, Path]:
    """The bundled scenarios by name; suite files (`suite:` at the top, gaplab.suite) that
    live next to them are not scenarios and are left out."""
    directory = bundled_dir("scenarios")
    return {
        path.stem: path
        for path in sorted(directory.glob("*.yaml"))
        if not _SUITE_KEY.search(path.read_text(encoding="utf-8"))
    }


_SUITE_KEY = re.compile(r"^suite:", re.MULTILINE)


def find_scenario(spec: str) -> Path:
    path = Path(spec)
    if path.exists():
        return path
    bundled = bundled_scenarios()
    name = path.stem if path.suffix in {".yaml", ".yml"} else spec
    if name in bundled and path.parent in (Path("."), Path("scenarios")):
        return bundled[name]
    raise InputError(
        f"scenario {spec!r}: no such file, and no bundled scenario of that name "
        f"(bundled: {', '.join(bundled) or 'none'})"
    )


def load_scenario(spec: str) -> tuple[Scenario, Path]:
    scenario, path, _ = load_scenario_document(spec)
    return scenario, path


def load_scenario_document(spec: str) -> tuple[Scenario, Path, Document]:
    """The scenario, its path, and its parsed document (to locate later problems)."""
    path = find_scenario(spec)
    scenario, document = load_document(path, Scenario)
    check_scenario(scenario, document)
    return scenario, path, document


def resolve_scenario_target(scenario: Scenario, path: Path, document: Document) -> TargetFile:
    """The scenario's own `target:` (a demo, or a file relative to the scenario); one that
    does not exist is reported at the `target:` line of the scenario."""
    from gaplab.target.resolve import resolve_target

    try:
        return resolve_target(
            scenario.target, relative_to=path.parent, interface=scenario.interface
        )
    except InputError as exc:
        if all(p.file == "" for p in exc.problems):  # not a file's problem: this line's
            raise InputError(
                [
                    problem_at(document.file, document.positions, ("target",), p.message)
                    for p in exc.problems
                ]
            ) from None
        raise


def check_scenario(scenario: Scenario, document: Document) -> None:
    """The checks a valid model can still fail: check ids and options, the profile."""
    problems: list[Problem] = []
    try:
        validate_checks(scenario, document.file, document.positions)
    except InputError as exc:
        problems.extend(exc.problems)
    problems.extend(_profile_problems(scenario, document))
    if problems:
        raise InputError(problems)


def _profile_problems(scenario: Scenario, document: Document) -> list[Problem]:
    from gaplab.provider.profiles import load_profile

    try:
        load_profile(scenario.provider)
    except InputError as exc:
        # A profile that does not exist is this file's problem; one that exists but is
        # broken keeps its own file and line.
        missing = all(p.line is None for p in exc.problems)
        if not missing:
            return exc.problems
        reason = "; ".join(p.message for p in exc.problems)
        message = f"provider profile {scenario.provider!r}: {reason}"
        return [problem_at(document.file, document.positions, ("provider",), message)]
    return []


def scope_warnings(scenario: Scenario, document: Document) -> list[Problem]:
    """Faults scoped to a model the provider profile does not know (neither a model id nor
    an alias): a warning, not an error, since a target may ask for any name, but such a
    fault usually hits nothing and leaves its checks undecided."""
    from gaplab.provider.profiles import load_profile

    try:
        profile = load_profile(scenario.provider)
    except InputError:
        return []  # reported as an error by check_scenario
    known = [name for spec in profile.models for name in (spec.id, *spec.aliases)]
    warnings = []
    for p_index, phase in enumerate(scenario.phases):
        for f_index, entry in enumerate(phase.faults):
            fault = entry.provider
            if fault is None or fault.match is None or fault.match.model is None:
                continue
            if profile.find_model(fault.match.model) is None:
                loc = ("phases", p_index, "faults", f_index, "provider", "match", "model")
                message = (
                    f"{fault.match.model!r} is neither a model nor an alias of provider "
                    f"profile {profile.name!r} (known: {', '.join(known)}); the fault will "
                    "only hit calls that ask for exactly that name"
                )
                warnings.append(problem_at(document.file, document.positions, loc, message))
    return warnings
