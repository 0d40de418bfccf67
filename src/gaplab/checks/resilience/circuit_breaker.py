"""resilience.circuit_breaker: a sustained outage opens a circuit; upstream calls stop and
users get fast answers, then traffic resumes."""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import Field

from gaplab.checks.base import Check, CheckContext, CheckOptions, CheckResult, Verdict, ms
from gaplab.checks.resilience.outage import sustained_outage
from gaplab.checks.stats import percentile, rate
from gaplab.scenario.durations import Duration


class BreakerOptions(CheckOptions):
    settle: Duration = Field(default=2.0, ge=0, description="time allowed for the breaker to open")
    drop: float = Field(default=0.8, gt=0, le=1, description="required fall in upstream rate")
    fast: Duration = Field(default=1.0, gt=0, description="user p95 once the breaker is open")


class CircuitBreakerCheck(Check):
    id = "resilience.circuit_breaker"
    title = "A sustained outage opens a circuit: upstream calls stop, users get fast answers"
    area = "resilience"
    why = (
        "Calling a provider that is down wastes money and time, slows every user to the "
        "timeout, and hammers the provider as it tries to recover. A circuit breaker notices "
        "the failures, stops calling for a while, answers at once from the fallback, and "
        "probes now and then to resume when the provider is back."
    )
    Options = BreakerOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        outage = sustained_outage(ctx)
        if outage is None:
            return self.result(
                Verdict.NOT_RUN,
                "needs a baseline phase and a phase where every "
                "provider call fails (e.g. error: 503)",
            )
        window, end, base_rate = outage.window, outage.end, outage.baseline_rate
        open_from = window.start + options.settle
        if end - open_from < 1.0:
            return self.result(
                Verdict.NOT_RUN,
                f"phase {window.name} is too short to watch a "
                f"breaker after {options.settle:g}s of settling",
                phase=window.name,
            )
        calls = ctx.record.calls_between(window.start, end)
        fault_rate = rate(sum(1 for c in calls if c.t_arrival >= open_from), end - open_from)
        users = ctx.record.requests_in(window, after=options.settle)
        user_p95 = percentile([r.latency for r in users], 95)
        threshold, break_s = _estimate_breaker(calls, window.start)
        after = ctx.record.after(window)
        resumed = None
        if after is not None and after.end is not None:
            resumed = sum(
                1 for c in ctx.record.calls_between(after.start, after.end) if 200 <= c.status < 300
            )
        numbers = {
            "baseline_calls_per_s": round(base_rate, 2),
            "outage_calls_per_s": round(fault_rate, 2),
            "drop": round(1 - fault_rate / base_rate, 3) if base_rate else None,
            "user_p95_s": user_p95,
            "estimated_threshold_calls": threshold,
            "estimated_break_s": break_s,
            "successful_calls_after": resumed,
        }
        problems = []
        if base_rate == 0:
            return self.result(
                Verdict.NOT_RUN,
                "no upstream call in the baseline phase",
                numbers=numbers,
                phase=window.name,
            )
        if fault_rate > (1 - options.drop) * base_rate:
            problems.append(
                f"upstream calls fell only from {base_rate:.1f}/s to "
                f"{fault_rate:.1f}/s (needs a {options.drop:.0%} drop)"
            )
        if user_p95 is not None and user_p95 > options.fast:
            problems.append(f"users waited {ms(user_p95)} at p95 (fast means ≤ {ms(options.fast)})")
        if resumed == 0:
            problems.append("no successful upstream call after the outage: traffic did not resume")
        if problems:
            return self.result(
                Verdict.FAIL, "; ".join(problems), numbers=numbers, phase=window.name
            )
        estimate = ""
        if threshold is not None:
            estimate = f"; opened after ~{threshold} calls"
            if break_s is not None:
                estimate += f", probing every ~{break_s:.1f}s"
        return self.result(
            Verdict.PASS,
            f"upstream calls fell from {base_rate:.1f}/s to "
            f"{fault_rate:.1f}/s, users p95 {ms(user_p95)}{estimate}",
            numbers=numbers,
            phase=window.name,
        )


def _estimate_breaker(
    calls: list[Any], start: float, gap: float = 0.5
) -> tuple[int | None, float | None]:
    """Calls before the first long quiet gap (the threshold), and the typical gap after it
    (the break duration: a half-open probe per break)."""
    times = sorted(c.t_arrival for c in calls)
    if len(times) < 2:
        return None, None
    gaps = [(b - a, i) for i, (a, b) in enumerate(itertools.pairwise(times))]
    first = next((i for g, i in gaps if g >= gap), None)
    if first is None:
        return None, None
    later = [g for g, i in gaps if i >= first and g >= gap]
    return first + 1, percentile(later, 50)
