"""resilience.recovery: after the fault ends, users get normal answers again within seconds."""

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
)
from gaplab.scenario.durations import Duration


class RecoveryOptions(CheckOptions):
    within: Duration = Field(default=10.0, ge=0)
    min_ok: float = Field(default=0.95, gt=0, le=1)


class RecoveryCheck(Check):
    id = "resilience.recovery"
    title = "After the fault ends, users get normal answers again within seconds"
    area = "resilience"
    why = (
        "Recovery is where hidden state shows: a breaker that never closes, a poisoned "
        "connection pool, a cache of failures, a queue of stale retries. Users should be "
        "back to normal answers shortly after the provider is."
    )
    Options = RecoveryOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        pairs = [
            (p, following)
            for p in ctx.phases_where(lambda p: p.faulty)
            if (following := ctx.scenario.after(p)) is not None
        ]
        if not pairs:
            raise Undecided("no fault-free phase follows a faulty one")
        fault_phase, after_phase = pairs[0]
        ctx.experiment(fault_phase)
        after = ctx.ended(after_phase)
        assert after.end is not None
        if after.end - after.start <= options.within + 1:
            raise Undecided(
                f"phase {after.name} is too short to judge recovery after {options.within:g}s",
                phase=after.name,
            )
        settled = ctx.record.requests_in(after, after=options.within)
        if not settled:
            raise Undecided("no request after the recovery window", phase=after.name)
        not_ok = [r for r in settled if r.outcome != "ok"]
        share = 1 - len(not_ok) / len(settled)
        allowed = 1 - options.min_ok
        first_ok = min(
            (r.t for r in ctx.record.requests_in(after) if r.outcome == "ok"), default=None
        )
        numbers = {
            "requests": len(settled),
            "ok": len(settled) - len(not_ok),
            "ok_share": round(share, 3),
            "within_s": options.within,
            "first_ok_after_s": None if first_ok is None else round(first_ok - after.start, 2),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": after.name,
            "margin": round(margin_at_most(1 - share, allowed), 4),
            "limit": f"≥ {options.min_ok:.0%} ok from {options.within:g}s after the fault",
        }
        if share < options.min_ok:
            return self.result(
                Verdict.FAIL,
                f"only {share:.0%} of requests were ok {options.within:g}s after "
                f"{fault_phase.name} ended (needs {options.min_ok:.0%})",
                examples=examples(r.request_id for r in not_ok),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"{share:.0%} of requests ok from {options.within:g}s after {fault_phase.name} ended",
            **evidence,
        )
