"""resilience.circuit_breaker: a sustained outage opens a circuit; upstream calls stop and
users get fast answers, then traffic resumes."""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import Field

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckOptions,
    CheckResult,
    Undecided,
    Verdict,
    closest,
    margin_at_most,
    ms,
)
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
        start, end, base_rate = outage.start, outage.end, outage.baseline_rate
        name = outage.window.name
        open_from = start + options.settle
        if end - open_from < 1.0:
            raise Undecided(
                f"phase {name} is too short to watch a breaker after "
                f"{options.settle:g}s of settling",
                phase=name,
            )
        calls = outage.calls(ctx, start, end)
        fault_rate = rate(sum(1 for c in calls if c.t_arrival >= open_from), end - open_from)
        users = [r for r in ctx.record.requests_in(outage.window) if r.started >= open_from]
        user_p95 = percentile([r.latency for r in users], 95)
        threshold, break_s = _estimate_breaker(calls, start)
        recovery = ctx.scenario.after(outage.phase)
        resumed = None
        if recovery is not None:
            after = ctx.ended(recovery)
            assert after.end is not None
            resumed = sum(
                1 for c in outage.calls(ctx, after.start, after.end) if 200 <= c.status < 300
            )
        allowed = (1 - options.drop) * base_rate
        margin = closest(
            margin_at_most(fault_rate, allowed) if allowed > 0 else None,
            None if user_p95 is None else margin_at_most(user_p95, options.fast),
        )
        numbers = {
            "baseline_calls_per_s": round(base_rate, 2),
            "outage_calls_per_s": round(fault_rate, 2),
            "allowed_calls_per_s": round(allowed, 2),
            "drop": round(1 - fault_rate / base_rate, 3),
            "user_p95_s": user_p95,
            "estimated_threshold_calls": threshold,
            "estimated_break_s": break_s,
            "successful_calls_after": resumed,
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": name,
            "margin": margin,
            "limit": f"upstream rate ≤ {allowed:.1f}/s ({options.drop:.0%} below baseline), "
            f"user p95 ≤ {ms(options.fast)}",
        }
        problems = []
        if fault_rate > allowed:
            moved = "rose" if fault_rate > base_rate else "fell only"
            problems.append(
                f"upstream calls {moved} from {base_rate:.1f}/s to {fault_rate:.1f}/s "
                f"(needs a drop of {options.drop:.0%}, to ≤ {allowed:.1f}/s)"
            )
        if user_p95 is not None and user_p95 > options.fast:
            problems.append(f"users waited {ms(user_p95)} at p95 (fast means ≤ {ms(options.fast)})")
        if resumed == 0:
            problems.append("no successful upstream call after the outage: traffic did not resume")
        if problems:
            return self.result(Verdict.FAIL, "; ".join(problems), **evidence)
        estimate = ""
        if threshold is not None:
            estimate = f"; opened after ~{threshold} calls"
            if break_s is not None:
                estimate += f", probing every ~{break_s:.1f}s"
        return self.result(
            Verdict.PASS,
            f"upstream calls fell from {base_rate:.1f}/s to "
            f"{fault_rate:.1f}/s, users p95 {ms(user_p95)}{estimate}",
            **evidence,
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
