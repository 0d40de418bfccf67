"""resilience.no_retry_storm: persistent 429/503 does not multiply upstream traffic."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gaplab.checks.base import Check, CheckContext, CheckOptions, CheckResult, Verdict
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
        if outage is None:
            return self.result(
                Verdict.NOT_RUN, "needs a baseline phase and a phase of persistent 429/503"
            )
        window, end, base_rate = outage.window, outage.end, outage.baseline_rate
        calls = ctx.record.calls_between(window.start, end)
        requests = ctx.record.requests_in(window)
        if not requests or base_rate == 0:
            return self.result(Verdict.NOT_RUN, "no traffic to measure", phase=window.name)
        fault_rate = rate(len(calls), end - window.start)
        amplification = len(calls) / len(requests)
        numbers = {
            "upstream_calls": len(calls),
            "user_requests": len(requests),
            "amplification": round(amplification, 2),
            "baseline_calls_per_s": round(base_rate, 2),
            "outage_calls_per_s": round(fault_rate, 2),
        }
        problems = []
        if amplification > options.max_amplification * (1 + options.amplification_tolerance):
            problems.append(
                f"{amplification:.1f} upstream calls per user request "
                f"(max {options.max_amplification:g})"
            )
        if fault_rate > base_rate * (1 + options.rate_tolerance):
            problems.append(f"upstream rate rose from {base_rate:.1f}/s to {fault_rate:.1f}/s")
        if problems:
            return self.result(
                Verdict.FAIL, "; ".join(problems), numbers=numbers, phase=window.name
            )
        return self.result(
            Verdict.PASS,
            f"{amplification:.2f} upstream calls per user request, "
            f"{fault_rate:.1f}/s against {base_rate:.1f}/s at baseline",
            numbers=numbers,
            phase=window.name,
        )
