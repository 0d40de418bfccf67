"""The report document: one versioned, JSON-ready dict built from a finished run.

Every writer (JSON, JUnit, console, Markdown) renders this document, so they cannot
disagree; `lab report runs/<id>` rebuilds it from the journal. Schema: docs/report-json.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gaplab.checks.base import CheckResult
from gaplab.checks.scoring import Scorecard
from gaplab.engine.events import FaultCoverage
from gaplab.metrics.prices import declared_budget, prices_for, scenario_check_options
from gaplab.metrics.snapshot import LabFigures, LatencySummary, Snapshot
from gaplab.report.masking import Masker
from gaplab.report.request_examples import example_requests
from gaplab.report.series import run_cost, run_series
from gaplab.report.workers import load_workers
from gaplab.scenario.target_models import TargetFile

if TYPE_CHECKING:
    from gaplab.engine.record import RunRecord

SCHEMA_VERSION = 1


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            return None
        # Six significant digits below 1 (a cost per request is a few millionths of a USD).
        return float(f"{value:.6g}") if abs(value) < 1 else round(value, 6)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _latency(summary: LatencySummary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "p50_s": summary.p50,
        "p95_s": summary.p95,
        "p99_s": summary.p99,
        "max_s": summary.max,
    }


def _check(result: CheckResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "title": result.title,
        "area": result.area,
        "critical": result.critical,
        "verdict": result.verdict.value,
        "summary": result.summary,
        "why": result.why,
        "borderline": result.borderline,
        "evidence": {
            "kind": result.evidence.kind.value,
            "phase": result.evidence.phase,
            "numbers": result.evidence.numbers,
            "examples": list(result.evidence.examples),
            "margin": result.evidence.margin,
            "limit": result.evidence.limit,
        },
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _lab(lab: LabFigures | None) -> dict[str, Any] | None:
    """The lab's own health: was the lab, not the target, the bottleneck?"""
    if lab is None:
        return None
    return {
        "load_model": lab.load_model,
        "loop_lag_ms": {
            "p50": _ms(lab.run_lag_p50),
            "p99": _ms(lab.run_lag_p99),
            "max": _ms(lab.run_lag_max),
        },
        "schedule_slip_ms": {
            "p50": _ms(lab.run_slip_p50),
            "p99": _ms(lab.run_slip_p99),
            "max": _ms(lab.run_slip_max),
        },
        "arrivals": {
            "planned": lab.arrivals_planned,
            "started": lab.arrivals_started,
            "dropped": lab.arrivals_dropped,
            "missed": lab.arrivals_missed,
        },
    }


def _coverage(coverage: Sequence[FaultCoverage], phase: str) -> list[dict[str, Any]]:
    return [
        {"fault": c.fault, "source": c.source, "hits": c.hits, "matched": c.matched}
        for c in coverage
        if c.phase == phase
    ]


def build_report(
    *,
    run_id: str,
    status: str,
    scenario: dict[str, Any],
    target: str,
    seed: int,
    scorecard: Scorecard,
    snapshot: Snapshot,
    error: str | None = None,
    coverage: Sequence[FaultCoverage] = (),
    masker: Masker | None = None,
    record: RunRecord | None = None,
    target_file: TargetFile | None = None,
) -> dict[str, Any]:
    """The report of a run. With a `masker`, personal data in summaries and evidence is
    masked (the journal keeps the raw record). With the `record`, what the human formats
    draw is added: `series`, `cost` and each check's `example_requests`; the cost is priced
    with the scenario's provider profile and judged by the `target_file`'s budget."""
    mask = masker or (Masker.for_record(record) if record is not None else Masker())
    document: dict[str, Any] = _clean(
        {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "status": status,
            "partial": status != "completed",
            "error": mask.text(error) if error else error,
            "scenario": {"name": scenario.get("name"), "title": scenario.get("title")},
            "target": target,
            "seed": seed,
            "verdict": {
                "ready": scorecard.ready,
                "complete": scorecard.complete,
                "stopped": scorecard.stopped,
                "missed_faults": list(scorecard.missed_faults),
                "borderline": [r.id for r in scorecard.results if r.borderline],
                "score": scorecard.score,
                "fail_under": scorecard.fail_under,
                "critical_failures": list(scorecard.critical_failures),
                "counts": scorecard.counts,
                "areas": scorecard.areas,
            },
            "checks": [mask.value(_check(r)) for r in scorecard.results],
            "totals": {
                "outcomes": snapshot.totals,
                "latency": _latency(snapshot.latency),
                "provider_calls": snapshot.provider_calls,
                "tokens_in": snapshot.tokens_in,
                "tokens_out": snapshot.tokens_out,
                "cost_usd": snapshot.cost_usd,
                "duration_s": snapshot.t,
                "dropped_arrivals": snapshot.dropped,
            },
            "lab": _lab(snapshot.lab),
            "phases": [
                {
                    "name": p.name,
                    "started_s": p.started,
                    "ended_s": p.ended,
                    "faults": list(p.faults),
                    "coverage": _coverage(coverage, p.name),
                    "outage": p.outage,
                    "outcomes": p.outcomes,
                    "latency": _latency(p.latency),
                    "non_ai_latency": _latency(p.non_ai_latency),
                    "provider_calls": p.provider_calls,
                    "provider_statuses": {
                        str(k): v for k, v in sorted(p.provider_statuses.items())
                    },
                    "amplification": p.amplification,
                    "dropped_arrivals": p.dropped,
                }
                for p in snapshot.phases
            ],
        }
    )
    workers = load_workers(snapshot)
    if workers is not None:  # --load locust: each worker's share and health
        document["load_workers"] = _clean(workers)
    if record is not None:
        _add_record_parts(document, record, scorecard, mask, scenario, target_file)
    document["verdict"]["headline"] = verdict_headline(document)
    return document


def _add_record_parts(
    document: dict[str, Any],
    record: RunRecord,
    scorecard: Scorecard,
    mask: Masker,
    scenario: dict[str, Any],
    target_file: TargetFile | None,
) -> None:
    """Series, cost (gaplab.report.series) and example requests (.request_examples)."""
    examples = example_requests(record, scorecard.results, mask)
    for check in document["checks"]:
        check["example_requests"] = _clean(examples.get(check["id"], []))
    document["series"] = _clean(run_series(record))
    prices = prices_for(str(scenario.get("provider") or "openai"))
    budget = declared_budget(target_file, scenario_check_options(scenario.get("checks") or ()))
    document["cost"] = _clean(run_cost(record, prices, budget))
    manual = manual_faults(record)
    if manual:
        document["manual_faults"] = _clean(manual)


MANUAL_NOTE = "manual faults were applied: verdicts reflect them"


def manual_faults(record: RunRecord) -> list[dict[str, Any]]:
    """Each fault applied by hand: what, from when to when (run clock), in which phase, and
    what it hit (None where it cannot be counted)."""
    hits: dict[str, list[int | None]] = {}
    for coverage in record.manual_coverage:
        hits.setdefault(coverage.fault, []).append(coverage.hits)
    spans: list[dict[str, Any]] = []
    open_spans: dict[str, dict[str, Any]] = {}
    for event in record.manual:
        if event.action == "apply":
            span = {
                "name": event.name,
                "fault": event.fault,
                "source": event.source,
                "phase": event.phase,
                "start_s": event.t,
                "end_s": None,
                "spec": event.spec,
            }
            open_spans[event.name] = span
            spans.append(span)
        elif event.name in open_spans:
            open_spans.pop(event.name)["end_s"] = event.t
    for span in spans:
        found = hits.get(str(span["fault"]))
        span["hits"] = found.pop(0) if found else None
    return spans


def verdict_headline(report: dict[str, Any]) -> str:
    """One line every front end shows: `READY ...`, `NOT READY ...`, `INCOMPLETE ...` (the
    run did not finish) or `NO VERDICT ...` (nothing was tested); a run with faults applied
    by hand says so after it."""
    if report.get("manual_faults"):  # every front end says so with the verdict
        return _verdict_headline(report) + f"  ({MANUAL_NOTE})"
    return _verdict_headline(report)


def _verdict_headline(report: dict[str, Any]) -> str:
    verdict = report["verdict"]
    score = verdict["score"]
    counts = verdict["counts"]
    checks = sum(counts.values())
    score_text = "n/a" if score is None else f"{score:.0f}%"
    if not verdict.get("complete", True):
        undecided = counts.get("not_run", 0)
        return (
            f"INCOMPLETE  {verdict.get('stopped') or 'the run did not finish'}: "
            f"{undecided} of {checks} checks could not be decided; no verdict"
        )
    missed = verdict.get("missed_faults") or []
    if missed:
        return "NO VERDICT  the experiment did not happen: " + "; ".join(missed)
    if score is None:
        return f"NO VERDICT  none of the {checks} checks could be decided (see their reasons)"
    if verdict["ready"]:
        return f"READY  score {score_text} (fail under {verdict['fail_under']:g}%)"
    why = []
    if verdict["critical_failures"]:
        why.append("critical: " + ", ".join(verdict["critical_failures"]))
    if score < verdict["fail_under"]:
        why.append(f"below {verdict['fail_under']:g}%")
    return f"NOT READY  score {score_text}  ({'; '.join(why)})"
