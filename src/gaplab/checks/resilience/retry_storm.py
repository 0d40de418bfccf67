"""resilience.no_retry_storm: persistent 429/503 does not multiply upstream traffic."""

from __future__ import annotations

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
)
from gaplab.checks.resilience.outage import sustained_outage
from gaplab.checks.stats import rate


class StormOptions(CheckOptions):
    max_amplification: float = Field(default=3.0, gt=0)
    rate_tolerance: float = Field(
        default=0.25, ge=0, description="upstream rate may exceed baseline by this much"
    )
    amplification_tolerance: float = Field(
        default=0.1, ge=0, description="phase-edge blur allowed on the ratio"
    )


class NoRetryStormCheck(Check):
    id = "resilience.no_retry_storm"
    title = "Persistent 429/503 does not multiply upstream traffic"
    area = "resilience"
    why = (
        "When the provider is rate-limiting or failing, every retry is another request "
        "against a service that already said no. Retries stacked in several layers (SDK, "
        "library, app) turn one user click into nine calls and keep the provider down."
    )
    Options = StormOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        outage = sustained_outage(ctx)
        start, end, base_rate = outage.start, outage.end, outage.baseline_rate
        name = outage.window.name
        calls = outage.calls(ctx, start, end)
        if outage.scope is None:
            requests = [r for r in ctx.record.requests_in(outage.window) if r.started >= start]
        else:  # a scoped fault: the requests whose calls it could hit
            requests = ctx.record.join().requests_of(calls)
        if not requests:
            raise Undecided(f"no user request started during {name}", phase=name)
        fault_rate = rate(len(calls), end - start)
        amplification = len(calls) / len(requests)
        max_amp = options.max_amplification * (1 + options.amplification_tolerance)
        max_rate = base_rate * (1 + options.rate_tolerance)
        numbers = {
            "upstream_calls": len(calls),
            "user_requests": len(requests),
            "amplification": round(amplification, 2),
            "baseline_calls_per_s": round(base_rate, 2),
            "outage_calls_per_s": round(fault_rate, 2),
            "rate_ratio": round(fault_rate / base_rate, 3),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": name,
            "margin": closest(
                margin_at_most(amplification, max_amp), margin_at_most(fault_rate, max_rate)
            ),
            "limit": f"≤ {options.max_amplification:g} calls per request, upstream rate "
            f"≤ {1 + options.rate_tolerance:g}× baseline",
        }
        problems = []
        if amplification > max_amp:
            problems.append(
                f"{amplification:.1f} upstream calls per user request "
                f"(max {options.max_amplification:g})"
            )
        if fault_rate > max_rate:
            problems.append(
                f"upstream rate rose from {base_rate:.1f}/s to {fault_rate:.1f}/s "
                f"({fault_rate / base_rate:.2f}× the baseline; max {1 + options.rate_tolerance:g}×)"
            )
        if problems:
            return self.result(Verdict.FAIL, "; ".join(problems), **evidence)
        return self.result(
            Verdict.PASS,
            f"{amplification:.2f} upstream calls per user request, "
            f"{fault_rate:.1f}/s against {base_rate:.1f}/s at baseline",
            **evidence,
        )
