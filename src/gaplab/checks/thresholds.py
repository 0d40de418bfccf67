"""Scenario thresholds (`thresholds: {user_p95_ms: {max: 3000, phase: outage}}`) as results.

A threshold is a gate the scenario's author set explicitly, so a failed one is critical.
"""

from __future__ import annotations

from gaplab.checks.base import (
    CheckContext,
    CheckResult,
    Evidence,
    Undecided,
    Verdict,
    closest,
    margin_at_least,
    margin_at_most,
)
from gaplab.checks.stats import percentile

_WHY = "A limit the scenario's author set for this run."


def _measure(metric: str, ctx: CheckContext, phase: str | None) -> float | None:
    record = ctx.record
    windows = [ctx.ended(p) for p in ctx.scenario.phases if phase is None or p.name == phase]
    requests = [r for w in windows for r in record.requests_in(w)]
    if metric.startswith("user_p"):
        value = percentile([r.latency for r in requests], float(metric[6:8]))
        return None if value is None else value * 1000
    if metric == "amplification":
        calls = sum(len(record.calls_between(w.start, w.end or record.end)) for w in windows)
        return calls / len(requests) if requests else None
    if not requests:
        return None
    outcome = metric.removesuffix("_rate")
    return sum(1 for r in requests if r.outcome == outcome) / len(requests)


def evaluate_thresholds(ctx: CheckContext, *, decided_only: bool = False) -> list[CheckResult]:
    results = []
    for metric, threshold in ctx.scenario.thresholds.items():
        check_id = f"threshold.{metric}" + (f"@{threshold.phase}" if threshold.phase else "")
        bounds = []
        if threshold.max is not None:
            bounds.append(f"≤ {threshold.max:g}")
        if threshold.min is not None:
            bounds.append(f"≥ {threshold.min:g}")
        limit = " and ".join(bounds)
        title = f"{metric} {limit}" + (f" in phase {threshold.phase}" if threshold.phase else "")
        try:
            value = _measure(metric, ctx, threshold.phase)
        except Undecided as undecided:
            if undecided.pending and decided_only:
                continue
            value, reason = None, undecided.reason
        else:
            reason = "no requests to measure"
        margin = None
        if value is not None:
            margin = closest(
                None if threshold.max is None else margin_at_most(value, threshold.max),
                None if threshold.min is None else margin_at_least(value, threshold.min),
            )
        evidence = Evidence(
            numbers={"value": value, "max": threshold.max, "min": threshold.min},
            phase=threshold.phase,
            margin=margin,
            limit=limit,
        )
        if value is None:
            verdict, summary = Verdict.NOT_RUN, reason
        elif margin is not None and margin < 0:
            verdict, summary = Verdict.FAIL, f"{metric} was {value:.4g} (limit {limit})"
        else:
            verdict, summary = Verdict.PASS, f"{metric} was {value:.4g} (limit {limit})"
        results.append(
            CheckResult(check_id, title, "thresholds", True, verdict, summary, _WHY, evidence)
        )
    return results
