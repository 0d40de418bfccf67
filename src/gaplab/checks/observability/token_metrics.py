"""observability.token_metrics: the target's token counters match what the provider saw."""

from __future__ import annotations

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
    closest,
    margin_at_most,
)
from gaplab.checks.observability.scrapes import MetricsFailed, declared_metrics, good_scrapes


class TokenMetricsOptions(CheckOptions):
    tolerance: float = Field(default=0.05, gt=0, le=1, description="relative difference allowed")


class TokenMetricsCheck(Check):
    id = "observability.token_metrics"
    title = "The target's token counters match what the provider saw"
    area = "observability"
    kind = EvidenceKind.PROBED
    probes = frozenset({"metrics"})
    why = (
        "Tokens are the bill. Counters of input and output tokens per model are what cost "
        "dashboards, budgets and alerts on cost creep are built from; counters that miss "
        "retries, streams or background work show a bill that is not the one that comes."
    )
    Options = TokenMetricsOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        declared_metrics(ctx, "`tokens: {input, output}`")
        for phase in ctx.scenario.phases:
            ctx.ended(phase)
        try:
            scrapes = good_scrapes(ctx)
        except MetricsFailed as failed:
            return self.result(Verdict.FAIL, str(failed))
        first, last = scrapes[0], scrapes[-1]
        pairs = {
            "input": (first.tokens_in, last.tokens_in),
            "output": (first.tokens_out, last.tokens_out),
        }
        declared = ctx.target.metrics.tokens if ctx.target and ctx.target.metrics else None
        wanted = [k for k in pairs if declared is None or getattr(declared, k) is not None]
        if not wanted:
            raise Undecided("declare `metrics.tokens.input` and/or `.output` in the target file")
        missing = sorted(
            {name for s in scrapes for name in s.missing if not name.startswith("label")}
        )
        if missing:
            return self.result(Verdict.FAIL, f"the metrics endpoint has no {', '.join(missing)}")
        calls = [
            c for c in ctx.record.calls if first.t <= c.t_end <= last.t and 200 <= c.status < 300
        ]
        seen = {
            "input": sum(c.tokens_in for c in calls),
            "output": sum(c.tokens_out for c in calls),
        }
        numbers: dict[str, Any] = {"provider_calls": len(calls)}
        errors: dict[str, float] = {}
        for key in wanted:
            start, end = pairs[key]
            counted = (end or 0.0) - (start or 0.0)
            numbers[f"{key}_counted"] = counted
            numbers[f"{key}_provider"] = seen[key]
            if seen[key] > 0:
                errors[key] = abs(counted - seen[key]) / seen[key]
        if not errors:
            raise Undecided("the provider reported no tokens between the first and last scrape")
        numbers["relative_difference"] = {k: round(v, 4) for k, v in errors.items()}
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "margin": closest(*(margin_at_most(e, options.tolerance) for e in errors.values())),
            "limit": f"within {options.tolerance:.0%} of the provider's counts",
        }
        text = ", ".join(
            f"{k} {numbers[f'{k}_counted']:,.0f} counted vs {numbers[f'{k}_provider']:,} at the "
            "provider"
            for k in errors
        )
        if any(e > options.tolerance for e in errors.values()):
            return self.result(Verdict.FAIL, f"token counters are off: {text}", **evidence)
        return self.result(Verdict.PASS, f"token counters match: {text}", **evidence)
