"""resilience.recovery: after the fault ends, users get normal answers again within seconds."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gaplab.checks.base import Check, CheckContext, CheckOptions, CheckResult, Verdict, examples
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
            (w, a)
            for w in ctx.record.fault_windows()
            if (a := ctx.record.after(w)) is not None and a.end is not None
        ]
        if not pairs:
            return self.result(Verdict.NOT_RUN, "no fault-free phase follows a fault")
        fault, after = pairs[0]
        assert after.end is not None
        if after.end - after.start <= options.within + 1:
            return self.result(
                Verdict.NOT_RUN,
                f"phase {after.name} is too short to judge recovery after {options.within:g}s",
                phase=after.name,
            )
        settled = ctx.record.requests_in(after, after=options.within)
        if not settled:
            return self.result(
                Verdict.NOT_RUN, "no request after the recovery window", phase=after.name
            )
        ok = [r for r in settled if r.outcome == "ok"]
        share = len(ok) / len(settled)
        first_ok = min(
            (r.t for r in ctx.record.requests_in(after) if r.outcome == "ok"), default=None
        )
        numbers = {
            "requests": len(settled),
            "ok": len(ok),
            "ok_share": round(share, 3),
            "within_s": options.within,
            "first_ok_after_s": None if first_ok is None else round(first_ok - after.start, 2),
        }
        if share < options.min_ok:
            not_ok = [r.request_id for r in settled if r.outcome != "ok"]
            return self.result(
                Verdict.FAIL,
                f"only {share:.0%} of requests were ok "
                f"{options.within:g}s after {fault.name} ended (needs "
                f"{options.min_ok:.0%})",
                numbers=numbers,
                phase=after.name,
                examples=examples(not_ok),
            )
        return self.result(
            Verdict.PASS,
            f"{share:.0%} of requests ok from {options.within:g}s after {fault.name} ended",
            numbers=numbers,
            phase=after.name,
        )
