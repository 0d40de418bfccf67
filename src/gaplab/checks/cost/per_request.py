"""cost.per_request: what one user request costs (the provider's price table times the
tokens of every call it caused, retries included), mean and p95, within the declared
budget; with what the traffic would cost at 10× and over a month."""

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
    examples,
    margin_at_most,
)
from gaplab.checks.cost.common import budget, prices, run_requests
from gaplab.metrics.cost import projection, request_costs, stats, timeline_seconds


class PerRequestOptions(CheckOptions):
    per_request_usd: float | None = Field(
        default=None, gt=0, description="budget per request when the target file declares none"
    )
    daily_requests: int | None = Field(
        default=None, gt=0, description="daily volume for the monthly projection, likewise"
    )
    min_requests: int = Field(default=10, ge=1, description="requests needed to judge")


class PerRequestCheck(Check):
    id = "cost.per_request"
    title = "A user request costs, on average and at p95, no more than its budget"
    area = "cost"
    why = (
        "The bill at the end of the month is the cost of one request times the requests. "
        "The demo's handful of short questions says nothing about it: long pastes, retries "
        "and long answers are what move it. Knowing the mean and the p95 per request, "
        "priced from the provider's own table, and what ten times today's traffic would "
        "cost, is what lets a budget be set before the invoice sets it."
    )
    Options = PerRequestOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        requests, phases = run_requests(ctx)
        declared = budget(ctx, options)
        limit = declared.per_request_usd
        if limit is None:
            raise Undecided(
                "declare budget.per_request_usd in the target file (or give "
                "`cost.per_request: {per_request_usd: ...}` in the scenario)"
            )
        if len(requests) < options.min_requests:
            raise Undecided(
                f"needs {options.min_requests} requests, {len(requests)} were sent", phase=phases
            )
        wanted = {r.request_id for r in requests}
        costs = [c for c in request_costs(ctx.record, prices(ctx)) if c.request_id in wanted]
        summary = stats([c.usd for c in costs])
        mean, p95 = summary["mean_usd"] or 0.0, summary["p95_usd"] or 0.0
        total = sum(c.usd for c in costs)
        spend = projection(
            total,
            len(costs),
            timeline_seconds(ctx.record),
            daily_requests=declared.daily_requests,
        )
        dearest = sorted(costs, key=lambda c: c.usd, reverse=True)[:5]
        numbers: dict[str, Any] = {
            **summary,
            "budget_usd": limit,
            "total_usd": total,
            "tokens_in": sum(c.tokens_in for c in costs),
            "tokens_cached": sum(c.tokens_cached for c in costs),
            "tokens_out": sum(c.tokens_out for c in costs),
            "over_budget": sum(1 for c in costs if c.usd > limit),
            "usd_per_hour": spend["usd_per_hour"],
            "at_10x_usd_per_hour": spend["at_volume"]["usd_per_hour"],
            "at_10x_usd_per_month": spend["at_volume"]["usd_per_month"],
            "monthly_usd": (spend["monthly"] or {}).get("usd_per_month"),
            "daily_requests": declared.daily_requests,
            "dearest": [
                {"request": c.request_id, "usd": c.usd, "kind": c.input_kind, "tokens": c.tokens_in}
                for c in dearest
            ],
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phases,
            "margin": closest(margin_at_most(mean, limit), margin_at_most(p95, limit)),
            "limit": f"mean and p95 ≤ ${limit:g} per request",
        }
        scale = f"${numbers['at_10x_usd_per_month']:,.2f} a month at 10× this traffic"
        if numbers["monthly_usd"] is not None:
            scale += (
                f", ${numbers['monthly_usd']:,.2f} a month at "
                f"{declared.daily_requests:,} requests a day"
            )
        figures = f"mean ${mean:.6f}, p95 ${p95:.6f} per request (budget ${limit:g})"
        if mean > limit or p95 > limit:
            worst = dearest[0]
            return self.result(
                Verdict.FAIL,
                f"{figures}: {numbers['over_budget']} of {len(costs)} requests over budget, "
                f"the dearest {worst.request_id} (${worst.usd:.5f}, {worst.tokens_in:,} "
                f"tokens in, {worst.input_kind}); {scale}",
                examples=examples(c.request_id for c in dearest if c.usd > limit),
                **evidence,
            )
        return self.result(Verdict.PASS, f"{figures}; {scale}", **evidence)
