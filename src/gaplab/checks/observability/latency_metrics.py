"""observability.latency_metrics: the target's metrics show AI-call latency as percentiles,
and they move when the lab makes the provider slower."""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckOptions,
    CheckResult,
    EvidenceKind,
    Undecided,
    Verdict,
    margin_at_least,
    ms,
)
from gaplab.checks.observability.scrapes import (
    MetricsFailed,
    declared_metrics,
    good_scrapes,
    increase,
)
from gaplab.scenario.durations import Duration


class LatencyMetricsOptions(CheckOptions):
    min_move: float = Field(
        default=0.5, gt=0, le=1, description="share of the added latency the p50 must rise by"
    )
    settle: Duration = Field(default=1.0, ge=0, description="skipped at the start of a phase")
    min_calls: int = Field(default=5, ge=1, description="calls the metrics must have counted")


class LatencyMetricsCheck(Check):
    id = "observability.latency_metrics"
    title = "The target's metrics show AI-call latency percentiles that move with the provider"
    area = "observability"
    kind = EvidenceKind.PROBED
    probes = frozenset({"metrics"})
    why = (
        "A slow provider is the most common AI incident and the hardest to see from the "
        "outside: users just wait. A latency histogram of the AI calls, with percentiles on "
        "a dashboard and an alert on p95, shows it within a minute; an average, or a metric "
        "that does not move when the provider slows down, does not."
    )
    Options = LatencyMetricsOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        declared_metrics(ctx, "`latency_histogram`", "latency_histogram")
        base_phase = ctx.scenario.baseline()
        slow = ctx.phases_where(lambda p: 0 < p.slow < math.inf and not p.outage)
        if base_phase is None or not slow:
            raise Undecided("needs a baseline and a phase where the provider is slower")
        baseline = ctx.ended(base_phase)
        window = ctx.experiment(slow[0])
        assert baseline.end is not None and window.end is not None
        added = slow[0].slow
        try:
            scrapes = good_scrapes(ctx)
        except MetricsFailed as failed:
            return self.result(Verdict.FAIL, str(failed), phase=window.name)
        missing = sorted({name for s in scrapes for name in s.missing})
        if missing:
            return self.result(
                Verdict.FAIL,
                f"the metrics endpoint has no {', '.join(missing)}",
                phase=window.name,
                numbers={"missing": missing},
            )
        before = increase(scrapes, baseline.start + options.settle, baseline.end)
        during = increase(scrapes, window.start + options.settle, window.end)
        if before is None or during is None:
            raise Undecided("too few metrics scrapes in the baseline or the slow phase")
        for name, seen in ((baseline.name, before), (window.name, during)):
            if seen.count < options.min_calls:
                return self.result(
                    Verdict.FAIL,
                    f"the latency histogram counted {seen.count:g} AI calls in phase {name}: "
                    "it does not see the calls the provider answered",
                    phase=window.name,
                    numbers={"counted": seen.count},
                )
        p50_before, p50_during = before.percentile(0.5), during.percentile(0.5)
        assert p50_before is not None and p50_during is not None
        moved = p50_during - p50_before
        wanted = options.min_move * added
        numbers = {
            "added_latency_s": added,
            "p50_baseline_s": round(p50_before, 4),
            "p95_baseline_s": before.percentile(0.95),
            "p50_slow_s": round(p50_during, 4),
            "p95_slow_s": during.percentile(0.95),
            "calls_counted": {baseline.name: before.count, window.name: during.count},
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": window.name,
            "margin": round(margin_at_least(moved, wanted), 4),
            "limit": f"p50 rises by ≥ {ms(wanted)} ({options.min_move:.0%} of the "
            f"{ms(added)} the lab added)",
        }
        summary = (
            f"the metrics' p50 went from {ms(p50_before)} to {ms(p50_during)} when the lab "
            f"added {ms(added)}"
        )
        if moved < wanted:
            return self.result(Verdict.FAIL, summary + f" (needs ≥ +{ms(wanted)})", **evidence)
        return self.result(Verdict.PASS, summary, **evidence)
