"""observability.health_degraded: the health endpoint says degraded while the provider is
down, and healthy again after."""

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
from gaplab.checks.resilience.outage import sustained_outage
from gaplab.engine.events import HealthProbed
from gaplab.scenario.durations import Duration


class HealthOptions(CheckOptions):
    settle: Duration = Field(default=3.0, ge=0, description="time allowed to notice the outage")
    min_share: float = Field(default=0.8, gt=0, le=1, description="share of probes that agree")
    within: Duration = Field(default=10.0, gt=0, description="time to say healthy again")


def _share(probes: list[HealthProbed], degraded: bool) -> float:
    return sum(1 for p in probes if p.degraded is degraded) / len(probes) if probes else 0.0


class HealthDegradedCheck(Check):
    id = "observability.health_degraded"
    title = "The health endpoint reports degraded while the provider is down"
    area = "observability"
    kind = EvidenceKind.PROBED
    probes = frozenset({"health"})
    why = (
        "Load balancers, status pages and on-call alerts read the health endpoint. One that "
        "always says `ok` while every AI answer is a fallback hides the incident from the "
        "people who should act on it; one that stays degraded after the provider recovered "
        "keeps traffic away for nothing."
    )
    Options = HealthOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        if ctx.target is not None and ctx.target.health is None:
            raise Undecided("declare `health:` (and how it says degraded) in the target file")
        outage = sustained_outage(ctx)
        recovery = ctx.scenario.after(outage.phase)
        if recovery is None:
            raise Undecided("needs a fault-free phase after the outage", phase=outage.window.name)
        after = ctx.ended(recovery)
        assert after.end is not None
        probes = ctx.record.health
        if not probes:
            raise Undecided("the lab took no health probe")
        base = outage.baseline
        assert base.end is not None
        in_base = [p for p in probes if base.start <= p.t < base.end]
        in_outage = [p for p in probes if outage.start + options.settle <= p.t < outage.end]
        in_recovery = [p for p in probes if after.start <= p.t < after.end]
        if not in_base or not in_outage or not in_recovery:
            raise Undecided("too few health probes in the baseline, outage or recovery")
        healthy_before = _share(in_base, False)
        degraded_during = _share(in_outage, True)
        first_healthy = next((p.t for p in in_recovery if p.degraded is False), None)
        back_after = None if first_healthy is None else first_healthy - outage.end
        tail = in_recovery[-3:]
        healthy_at_end = all(p.degraded is False for p in tail)
        numbers = {
            "probes": len(probes),
            "healthy_in_baseline": round(healthy_before, 3),
            "degraded_in_outage": round(degraded_during, 3),
            "healthy_again_after_s": None if back_after is None else round(back_after, 2),
            "unanswered": sum(1 for p in probes if p.status == 0),
        }
        margin = closest(
            # on the share that disagreed: every probe right is far from the limit
            margin_at_most(1 - healthy_before, 1 - options.min_share),
            margin_at_most(1 - degraded_during, 1 - options.min_share),
            None if back_after is None else margin_at_most(back_after, options.within),
        )
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": outage.window.name,
            "margin": margin,
            "limit": f"≥ {options.min_share:.0%} of probes degraded during the outage "
            f"(after {options.settle:g}s), healthy within {options.within:g}s after",
        }
        problems = []
        if degraded_during < options.min_share:
            problems.append(
                f"health said degraded in only {degraded_during:.0%} of "
                f"{len(in_outage)} probes while every provider call failed"
            )
        if healthy_before < options.min_share:
            problems.append(f"health said healthy in only {healthy_before:.0%} of the baseline")
        if back_after is None or back_after > options.within or not healthy_at_end:
            problems.append(
                "health did not say healthy again after the outage"
                if back_after is None or not healthy_at_end
                else f"health said healthy again only {back_after:.1f}s after the outage"
            )
        if problems:
            return self.result(Verdict.FAIL, "; ".join(problems), **evidence)
        return self.result(
            Verdict.PASS,
            f"health said degraded in {degraded_during:.0%} of probes during the outage and "
            f"healthy again {back_after:.1f}s after it",
            **evidence,
        )
