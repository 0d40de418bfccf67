"""From a run's record to its scorecard, the same way live, at the end of a run and when
`lab report` rebuilds a past run from its journal.

The verdict honours "no READY without evidence": an unfinished run is incomplete, a fault
that hit nothing means the experiment did not happen, and either one keeps it from READY.
"""

from __future__ import annotations

from gaplab.checks.base import CheckContext
from gaplab.checks.registry import evaluate
from gaplab.checks.scoring import Scorecard, score
from gaplab.engine.record import RunRecord
from gaplab.scenario.models import Scenario
from gaplab.scenario.target_models import TargetFile

STOPPED_HOW = {
    "interrupted": "was interrupted",
    "failed": "failed",
    "aborted": "ended without finishing (the lab process died)",
}


def missed_faults(record: RunRecord) -> tuple[str, ...]:
    """Faults that hit no call or connection in their phase."""
    return tuple(
        f"{c.fault} in phase {c.phase} hit nothing" for c in record.coverage if c.hits == 0
    )


def stop_reason(record: RunRecord, status: str, stopped_at: float | None) -> str:
    """`the run was interrupted 12.0 s into its timeline, in phase outage`, or ""."""
    if status == "completed":
        return ""
    origin = record.phases[0].start if record.phases else None
    stopped = stopped_at if stopped_at is not None else record.end
    open_phase = next((w.name for w in reversed(record.phases) if w.end is None), None)
    text = f"the run {STOPPED_HOW.get(status, status)}"
    if origin is None:
        return text + " before its timeline started"
    text += f" {max(0.0, stopped - origin):.1f} s into its timeline"
    return text + (f", in phase {open_phase}" if open_phase else "")


def decide(
    scenario: Scenario,
    record: RunRecord,
    sla: float,
    *,
    status: str,
    fail_under: float,
    stopped_at: float | None = None,
    target: TargetFile | None = None,
) -> Scorecard:
    context = CheckContext(scenario, record, sla, status, stopped_at, target)
    return score(
        evaluate(context),
        fail_under,
        complete=status == "completed",
        stopped=stop_reason(record, status, stopped_at),
        missed_faults=missed_faults(record),
    )
