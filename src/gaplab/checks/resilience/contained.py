"""resilience.contained: an AI outage does not spread to the non-AI endpoints."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import Field

from gaplab.checks.base import Check, CheckContext, CheckOptions, CheckResult, Verdict, examples, ms
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
        if not ctx.record.probes:
            return self.result(
                Verdict.NOT_RUN,
                "the target declares no non-AI endpoints (non_ai_endpoints in the target file)",
            )
        baseline = ctx.record.baseline()
        windows = [w for w in ctx.record.phases if w.outage or w.slow > 0]
        if baseline is None or not windows:
            return self.result(
                Verdict.NOT_RUN, "needs a fault-free baseline phase before a faulty one"
            )
        base = ctx.record.probes_in(baseline)
        if not base:
            return self.result(Verdict.NOT_RUN, "no non-AI probe in the baseline phase")
        base_status = Counter(p.status for p in base).most_common(1)[0][0]
        base_p95 = percentile([p.latency for p in base], 95) or 0.0
        limit = max(base_p95 * (1 + options.tolerance), base_p95 + options.min_slack)
        during = [p for w in windows for p in ctx.record.probes_in(w)]
        if not during:
            return self.result(Verdict.NOT_RUN, "no non-AI probe during the faults")
        kept = sum(1 for p in during if p.status == base_status)
        p95 = percentile([p.latency for p in during], 95) or 0.0
        numbers = {
            "baseline_status": base_status,
            "baseline_p95_s": base_p95,
            "fault_p95_s": p95,
            "p95_limit_s": limit,
            "probes": len(during),
            "status_kept": kept,
        }
        phase = ", ".join(w.name for w in windows)
        problems = []
        if kept < options.min_status_kept * len(during):
            problems.append(
                f"{len(during) - kept} of {len(during)} probes lost their baseline "
                f"status {base_status}"
            )
        if p95 > limit:
            problems.append(f"p95 rose from {ms(base_p95)} to {ms(p95)} (limit {ms(limit)})")
        if problems:
            changed = [p.request_id for p in during if p.status != base_status or p.latency > limit]
            return self.result(
                Verdict.FAIL,
                "; ".join(problems),
                numbers=numbers,
                phase=phase,
                examples=examples(changed),
            )
        return self.result(
            Verdict.PASS,
            f"non-AI endpoints kept status {base_status} and p95 "
            f"{ms(p95)} (baseline {ms(base_p95)})",
            numbers=numbers,
            phase=phase,
        )
