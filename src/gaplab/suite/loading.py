"""Load a suite file and everything it names, before anything starts: the file itself
(strict model, file:line errors), every scenario (found, valid, its target resolvable),
and the attestation file. Every problem is reported at the line of the suite file that
names it, all at once, as an `InputError` (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from gaplab.checks.attested.answers import load_attestation
from gaplab.demo.spec import PREFIX as DEMO_PREFIX
from gaplab.demo.spec import parse_demo_spec
from gaplab.errors import InputError, Problem
from gaplab.resources import bundled_dir
from gaplab.scenario.attest_models import AttestationFile
from gaplab.scenario.library import check_scenario, find_scenario
from gaplab.scenario.loader import Document, problem_at, read_document
from gaplab.scenario.models import Scenario
from gaplab.scenario.suite_models import SuiteFile, looks_like_suite
from gaplab.scenario.target_models import TargetFile
from gaplab.target.resolve import resolve_target

DEMO_ATTESTATIONS = Path(__file__).resolve().parent.parent / "demo" / "attest"


@dataclass(frozen=True)
class PlannedScenario:
    name: str
    path: Path  # the scenario file as listed (bundled or the user's)
    scenario: Scenario
    target_label: str
    target: TargetFile
    time_scale: float | None = None  # the entry's own, if it has one


@dataclass(frozen=True)
class LoadedSuite:
    suite: SuiteFile
    path: Path
    entries: tuple[PlannedScenario, ...]
    attestation: AttestationFile | None
    attestation_path: Path | None


def find_suite(spec: str) -> Path | None:
    """The suite file `spec` names (a path, or a bundled suite's name), or None when `spec`
    is not a suite (then it is a scenario)."""
    path = Path(spec)
    if not path.exists():
        bundled = bundled_dir("scenarios") / f"{path.stem}.yaml"
        if path.parent not in (Path("."), Path("scenarios")) or not bundled.exists():
            return None
        path = bundled
    if path.is_dir():
        return None
    try:
        document = read_document(path)
    except InputError:
        return None  # not YAML at all: the scenario loader reports it
    return path if looks_like_suite(document.data) else None


def bundled_suites() -> dict[str, SuiteFile]:
    """The suite files shipped with the scenarios, by name (invalid ones left out)."""
    found = {}
    for path in sorted(bundled_dir("scenarios").glob("*.yaml")):
        if find_suite(str(path)) is not None:
            try:
                found[path.stem] = read_document(path).validate(SuiteFile)
            except InputError:
                continue
    return found


def demo_attestation(target: str) -> Path | None:
    """A demo target's own attestation file (`demo:hardened?without=x` uses hardened's)."""
    if not target.startswith(DEMO_PREFIX):
        return None
    try:
        name, _ = parse_demo_spec(target)
    except InputError:
        return None
    path = DEMO_ATTESTATIONS / f"{name}.attest.yaml"
    return path if path.exists() else None


def load_suite(path: Path, *, target: str | None = None, attest: Path | None = None) -> LoadedSuite:
    """The suite, each scenario with its resolved target (`target` overrides the suite's
    default, not a per-scenario override), and the attestation file: `attest`, else the
    suite's `attest:`, else the demo target's own file, else none (attested items
    not_run)."""
    document = read_document(path)
    suite = document.validate(SuiteFile)
    problems: list[Problem] = []
    entries: list[PlannedScenario] = []
    for index, entry in enumerate(suite.scenarios):
        where = ("scenarios", index, "scenario")
        try:
            planned = _plan(entry.scenario, entry.target or target or suite.target, path)
            entries.append(replace(planned, time_scale=entry.time_scale))
        except InputError as exc:
            problems.append(_at(document, where, entry.scenario, exc))
    attestation = None
    attestation_path = attest
    if attestation_path is None and suite.attest is not None:
        attestation_path = path.parent / suite.attest
    if attestation_path is None:
        attestation_path = demo_attestation(target or suite.target)
    declared = attest is None and suite.attest is not None
    if declared and attestation_path is not None and not attestation_path.exists():
        message = (
            f"attestation file {attestation_path} does not exist (`lab attest init` writes one)"
        )
        problems.append(problem_at(document.file, document.positions, ("attest",), message))
    elif attestation_path is not None:
        try:
            attestation = load_attestation(attestation_path)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return LoadedSuite(suite, path, tuple(entries), attestation, attestation_path)


def _plan(spec: str, target_label: str, suite_path: Path) -> PlannedScenario:
    local = suite_path.parent / spec
    scenario_path = local if local.suffix in (".yaml", ".yml") and local.exists() else None
    path = scenario_path or find_scenario(spec)
    document = read_document(path)
    scenario = document.validate(Scenario)
    check_scenario(scenario, document)
    target = resolve_target(
        target_label, relative_to=suite_path.parent, interface=scenario.interface
    )
    return PlannedScenario(scenario.name, path, scenario, target_label, target)


def _at(document: Document, where: tuple[str | int, ...], spec: str, exc: InputError) -> Problem:
    """The first problem of a listed scenario, at the suite's line that lists it."""
    inner = "; ".join(str(p) for p in exc.problems)
    return problem_at(
        document.file, document.positions, where, f"scenario {spec!r}: {inner}",
        field=f"scenarios[{where[1]}]",
    )  # fmt: skip
