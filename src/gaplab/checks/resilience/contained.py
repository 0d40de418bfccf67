"""resilience.contained: an AI outage does not spread to the non-AI endpoints."""

from __future__ import annotations

from collections import Counter
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
    ms,
)
from gaplab.checks.stats import percentile
from gaplab.scenario.durations import Duration


class ContainedOptions(CheckOptions):
    tolerance: float = Field(default=0.5, ge=0, description="allowed p95 growth (0.5 = +50 %)")
    min_slack: Duration = Field(default=0.25, ge=0, description="p95 growth always allowed")
    min_status_kept: float = Field(default=0.99, ge=0, le=1)


class ContainedCheck(Check):
    id = "resilience.contained"
    title = "An AI outage does not spread to the rest of the application"
    area = "resilience"
    critical = True
    why = (
        "The classic incident: the provider returns 503 and the whole application returns "
        "500, because the AI call shares threads, connections or error handling with "
        "everything else. The non-AI parts must not notice the AI is down."
    )
    Options = ContainedOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        if ctx.target is not None and not ctx.target.non_ai_endpoints:
            raise Undecided(
                "the target declares no non-AI endpoints (non_ai_endpoints in the target file)"
            )
        base_phase = ctx.scenario.baseline()
        phases = ctx.phases_where(lambda p: p.outage or p.slow > 0)
        if base_phase is None or not phases:
            raise Undecided("needs a fault-free baseline phase before an outage or slow phase")
        baseline = ctx.ended(base_phase)
        windows = [ctx.experiment(p) for p in phases]
        base = ctx.record.probes_in(baseline)
        if not base:
            raise Undecided(f"no non-AI probe answered in the baseline phase {baseline.name}")
        base_status = Counter(p.status for p in base).most_common(1)[0][0]
        base_p95 = percentile([p.latency for p in base], 95) or 0.0
        limit = max(base_p95 * (1 + options.tolerance), base_p95 + options.min_slack)
        during = [p for w in windows for p in ctx.record.probes_in(w)]
        phase = ", ".join(w.name for w in windows)
        if not during:
            raise Undecided(f"no non-AI probe during {phase}", phase=phase)
        kept = sum(1 for p in during if p.status == base_status)
        lost_share = 1 - kept / len(during)
        allowed_lost = 1 - options.min_status_kept
        p95 = percentile([p.latency for p in during], 95) or 0.0
        numbers = {
            "baseline_status": base_status,
            "baseline_p95_s": base_p95,
            "fault_p95_s": p95,
            "p95_limit_s": limit,
            "probes": len(during),
            "status_kept": kept,
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phase,
            "margin": closest(margin_at_most(lost_share, allowed_lost), margin_at_most(p95, limit)),
            "limit": f"≥ {options.min_status_kept:.0%} of probes keep status {base_status}, "
            f"p95 ≤ {ms(limit)}",
        }
        problems = []
        if lost_share > allowed_lost:
            problems.append(
                f"{len(during) - kept} of {len(during)} probes lost their baseline "
                f"status {base_status}"
            )
        if p95 > limit:
            problems.append(f"p95 rose from {ms(base_p95)} to {ms(p95)} (limit {ms(limit)})")
        if problems:
            changed = [p.request_id for p in during if p.status != base_status or p.latency > limit]
            return self.result(
                Verdict.FAIL, "; ".join(problems), examples=examples(changed), **evidence
            )
        return self.result(
            Verdict.PASS,
            f"non-AI endpoints kept status {base_status} and p95 "
            f"{ms(p95)} (baseline {ms(base_p95)})",
            **evidence,
        )
