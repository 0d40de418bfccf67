"""resilience.timeout: every AI request answers within the SLA, even when the provider
hangs or is slower than the SLA."""

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
    examples,
    margin_at_most,
    ms,
)
from gaplab.checks.resilience.outage import affected_requests
from gaplab.checks.stats import percentile
from gaplab.scenario.durations import Duration


class TimeoutOptions(CheckOptions):
    sla: Duration | None = Field(default=None, gt=0)


class TimeoutCheck(Check):
    id = "resilience.timeout"
    title = "Every AI request answers within the SLA, even when the provider hangs"
    area = "resilience"
    critical = True
    why = (
        "A provider that hangs or needs 45 s instead of 2 s holds every user waiting on it, "
        "and the SDK's default read timeout is ten minutes. Only a timeout of the feature's "
        "own, below its SLA, turns a hang into a quick answer the user can act on."
    )
    Options = TimeoutOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        sla = options.sla or ctx.sla
        phases = ctx.phases_where(lambda p: p.slow > sla)
        if not phases:
            raise Undecided(
                f"no phase makes the provider slower than the {sla:g}s SLA "
                "(add a hang or a latency fault)"
            )
        windows = [(p, ctx.experiment(p)) for p in phases]
        requests = [r for p, w in windows for r in affected_requests(ctx, p, w)]
        phase = ", ".join(p.name for p in phases)
        if not requests:
            raise Undecided(f"no user request reached the slow provider in {phase}", phase=phase)
        late = [r for r in requests if r.latency > sla]
        p95 = percentile([r.latency for r in requests], 95)
        slowest = max(r.latency for r in requests)
        announced = sorted(
            {
                c.read_timeout
                for _, w in windows
                for c in ctx.record.calls_between(w.start, w.end or ctx.record.end)
                if c.read_timeout is not None
            }
        )
        numbers = {
            "requests": len(requests),
            "over_sla": len(late),
            "sla_s": sla,
            "p95_s": p95,
            "max_s": slowest,
            "sdk_read_timeout_s": announced,
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phase,
            "margin": round(margin_at_most(slowest, sla), 4),
            "limit": f"every answer within {sla:g}s",
        }
        note = (
            f"; the SDK announced a read timeout of {', '.join(f'{t:g}s' for t in announced)}"
            if announced
            else ""
        )
        if late:
            return self.result(
                Verdict.FAIL,
                f"{len(late)} of {len(requests)} requests took longer than the {sla:g}s SLA "
                f"(max {slowest:.1f}s){note}",
                examples=examples(r.request_id for r in late),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"all {len(requests)} requests answered within {sla:g}s (p95 {ms(p95)}){note}",
            **evidence,
        )
