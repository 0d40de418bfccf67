"""Rebuild a run's report from its directory (`lab report runs/<id>`): the journal holds
every event, `scenario.json` the scenario as it ran; checks are evaluated again from them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gaplab.checks.decide import decide
from gaplab.engine.journal import JOURNAL_NAME, SkippedLine, read_journal
from gaplab.engine.record import RunRecord
from gaplab.errors import InputError, Problem
from gaplab.metrics.aggregator import Aggregator
from gaplab.report.masking import Masker
from gaplab.report.model import build_report
from gaplab.scenario.loader import validation_problems
from gaplab.scenario.models import Scenario
from gaplab.scenario.target_models import TargetFile


def rebuild_report(
    run_dir: Path, *, fail_under: float, skipped: list[SkippedLine] | None = None
) -> dict[str, Any]:
    """The report of the run in `run_dir`; journal lines that are not events are left out
    and, when `skipped` is given, listed there. A directory that is not a run, or whose
    `scenario.json` cannot be read, is an `InputError`."""
    journal = run_dir / JOURNAL_NAME
    scenario_file = run_dir / "scenario.json"
    if not journal.is_file() or not scenario_file.is_file():
        raise InputError(f"{run_dir}: not a run directory (needs {JOURNAL_NAME} and scenario.json)")
    scenario = _read_scenario(scenario_file)
    record, aggregator = RunRecord(), Aggregator()
    for event in read_journal(journal, skipped):
        record(event)
        aggregator(event)
    if record.started is None:
        raise InputError(f"{journal}: the run never started (no run_started event)")
    # A journal that ends without `run_finished`: the lab process died (SIGKILL, a crash).
    status = record.finished.status if record.finished else "aborted"
    target = _read_target(run_dir / "target.json")
    scorecard = decide(
        scenario,
        record,
        record.started.sla,
        status=status,
        fail_under=fail_under,
        target=target,
    )
    return build_report(
        run_id=record.started.run_id,
        status=status,
        scenario=scenario.model_dump(mode="json"),
        target=record.started.target,
        seed=record.started.seed,
        scorecard=scorecard,
        snapshot=aggregator.snapshot(),
        error=record.finished.reason if record.finished and record.finished.reason else None,
        coverage=record.coverage,
        masker=Masker.for_record(record),
        record=record,
        target_file=target,
    )


def _read_scenario(path: Path) -> Scenario:
    file = str(path)
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        message = f"cannot read the run's scenario: {exc}"
        raise InputError(Problem(file, None, None, "", message)) from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, file, None)) from None


def _read_target(path: Path) -> TargetFile | None:
    """The target as it ran (secrets masked), for the checks that read its declarations;
    None when the file is missing or unreadable (those checks then judge without it)."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
        data.pop("label", None)
        return TargetFile.model_validate(data)
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
