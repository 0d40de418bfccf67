"""Rebuild a run's report from its directory (`lab report runs/<id>`): the journal holds
every event, `scenario.json` the scenario as it ran; checks are evaluated again from them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gaplab.checks.decide import decide
from gaplab.engine.journal import JOURNAL_NAME, read_journal
from gaplab.engine.record import RunRecord
from gaplab.errors import InputError
from gaplab.metrics.aggregator import Aggregator
from gaplab.report.masking import Masker
from gaplab.report.model import build_report
from gaplab.scenario.models import Scenario


def rebuild_report(run_dir: Path, *, fail_under: float) -> dict[str, Any]:
    journal = run_dir / JOURNAL_NAME
    scenario_file = run_dir / "scenario.json"
    if not journal.exists() or not scenario_file.exists():
        raise InputError(f"{run_dir}: not a run directory (needs {JOURNAL_NAME} and scenario.json)")
    scenario = Scenario.model_validate(json.loads(scenario_file.read_text(encoding="utf-8")))
    record, aggregator = RunRecord(), Aggregator()
    for event in read_journal(journal):
        record(event)
        aggregator(event)
    if record.started is None:
        raise InputError(f"{journal}: the run never started (no run_started event)")
    # A journal that ends without `run_finished`: the lab process died (SIGKILL, a crash).
    status = record.finished.status if record.finished else "aborted"
    scorecard = decide(scenario, record, record.started.sla, status=status, fail_under=fail_under)
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
    )
