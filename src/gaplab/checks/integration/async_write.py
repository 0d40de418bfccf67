"""integration.async_write: a write the AI enriches answers as fast when the AI is slow or
down as when it is healthy (the enrichment happens after the answer)."""

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
    ms,
)
from gaplab.checks.stats import percentile
from gaplab.engine.events import TargetActed
from gaplab.scenario.durations import Duration


class AsyncWriteOptions(CheckOptions):
    tolerance: float = Field(default=0.5, ge=0, description="p95 rise allowed, relative")
    min_slack: Duration = Field(default=0.25, ge=0, description="or this much, if larger")
    min_status_kept: float = Field(default=0.99, gt=0, le=1, description="writes answered < 400")


def _writes(ctx: CheckContext, start: float, end: float) -> list[TargetActed]:
    return [a for a in ctx.record.actions if a.action == "write" and start <= a.started < end]


class AsyncWriteCheck(Check):
    id = "integration.async_write"
    title = "A write the AI enriches stays fast when the AI is slow or down"
    area = "integration"
    probes = frozenset({"write"})
    why = (
        "Saving a note, a ticket or an order must not wait for a model. When enrichment "
        "(a summary, tags, a category) runs inside the write, every provider hiccup becomes "
        "a slow or failed save and users lose their work; a write that is accepted at once "
        "and enriched from a queue keeps the product working while the AI catches up."
    )
    Options = AsyncWriteOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        if ctx.target is not None and ctx.target.write is None:
            raise Undecided("declare `write:` (an endpoint whose writes the AI enriches)")
        base_phase = ctx.scenario.baseline()
        faulty = ctx.phases_where(lambda p: p.outage or p.slow > 0)
        if base_phase is None or not faulty:
            raise Undecided("needs a baseline and a phase where AI calls are slow or fail")
        baseline = ctx.ended(base_phase)
        assert baseline.end is not None
        base = _writes(ctx, baseline.start, baseline.end)
        if not base:
            raise Undecided("the lab made no probe write in the baseline")
        base_p95 = percentile([w.latency for w in base], 95)
        assert base_p95 is not None
        allowed = max(base_p95 * (1 + options.tolerance), base_p95 + options.min_slack)
        worst: tuple[float, str, float, list[TargetActed]] | None = None
        margins: list[float | None] = []
        per_phase: dict[str, Any] = {}
        for phase in faulty:
            window = ctx.experiment(phase)
            assert window.end is not None
            writes = _writes(ctx, window.start, window.end)
            if not writes:
                raise Undecided(f"the lab made no probe write in phase {phase.name}")
            p95 = percentile([w.latency for w in writes], 95)
            assert p95 is not None
            kept = sum(1 for w in writes if 0 < w.status < 400) / len(writes)
            per_phase[phase.name] = {"writes": len(writes), "p95_s": p95, "answered": kept}
            margins += [
                margin_at_most(p95, allowed),
                # on the share lost, as resilience.contained does: 100 % answered against
                # a 99 % floor is far from the limit, not 1 % from it
                margin_at_most(1 - kept, 1 - options.min_status_kept),
            ]
            if worst is None or p95 > worst[0]:
                worst = (p95, phase.name, kept, writes)
        assert worst is not None
        p95, name, kept, writes = worst
        evidence: dict[str, Any] = {
            "numbers": {"baseline_p95_s": base_p95, "allowed_p95_s": allowed, **per_phase},
            "phase": name,
            "margin": closest(*margins),
            "limit": f"p95 ≤ {ms(allowed)}, ≥ {options.min_status_kept:.0%} answered < 400",
        }
        failing = [
            f"{phase}: p95 {ms(seen['p95_s'])}, {seen['answered']:.0%} answered"
            for phase, seen in per_phase.items()
            if seen["p95_s"] > allowed or seen["answered"] < options.min_status_kept
        ]
        if failing:
            return self.result(
                Verdict.FAIL,
                f"writes slowed or failed with the AI (baseline p95 {ms(base_p95)}, allowed "
                f"{ms(allowed)}): " + "; ".join(failing),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"writes kept p95 {ms(p95)} in {name} (baseline {ms(base_p95)}, allowed {ms(allowed)})",
            **evidence,
        )
