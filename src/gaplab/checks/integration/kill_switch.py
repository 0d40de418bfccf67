"""integration.kill_switch: the declared flag turns AI off without a restart (upstream
calls drop to 0, users still get answers) and back on."""

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
    examples,
    margin_none_of,
)
from gaplab.scenario.durations import Duration


class KillSwitchOptions(CheckOptions):
    settle: Duration = Field(default=1.0, ge=0, description="calls in flight allowed to finish")


class KillSwitchCheck(Check):
    id = "integration.kill_switch"
    title = "A flag turns the AI off without a restart, and back on"
    area = "integration"
    kind = EvidenceKind.PROBED
    probes = frozenset({"kill_switch"})
    why = (
        "When the model starts saying something it must not, or the bill runs away, the "
        "fastest safe action is to switch the AI feature off and keep the rest of the "
        "product up. A flag that works without a deploy or a restart turns a long incident "
        "into a minute; one that exists only on paper does not."
    )
    Options = KillSwitchOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        if ctx.target is not None and ctx.target.kill_switch is None:
            raise Undecided("declare `kill_switch: {off: ..., on: ...}` in the target file")
        phases = ctx.phases_where(lambda p: p.kill_switch)
        if not phases:
            raise Undecided("needs a phase with `kill_switch: true`")
        phase = phases[0]
        window = ctx.ended(phase)
        assert window.end is not None
        acts = {a.action: a for a in ctx.record.actions if a.phase == phase.name}
        off, on = acts.get("kill_switch.off"), acts.get("kill_switch.on")
        if off is None or on is None:
            raise Undecided("the lab did not flip the kill switch", phase=phase.name)
        for act in (off, on):
            if not 200 <= act.status < 300:
                return self.result(
                    Verdict.FAIL,
                    f"the kill switch request ({act.action}) got "
                    f"{act.detail or f'HTTP {act.status}'}",
                    phase=phase.name,
                    numbers={"status": act.status},
                )
        quiet_from = off.t + options.settle
        calls = ctx.record.calls_between(quiet_from, window.end)
        requests = [r for r in ctx.record.requests_in(window) if r.started >= quiet_from]
        failed = [r for r in requests if r.outcome in ("error", "unsafe")]
        later = ctx.scenario.after(phase)
        resumed = None
        if later is not None:
            after = ctx.ended(later)
            assert after.end is not None
            resumed = sum(
                1 for c in ctx.record.calls_between(after.start, after.end) if c.status == 200
            )
        numbers = {
            "upstream_calls_while_off": len(calls),
            "requests_while_off": len(requests),
            "failed_while_off": len(failed),
            "successful_calls_after": resumed,
            "switch_latency_s": round(off.latency, 4),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phase.name,
            "margin": margin_none_of(len(calls) + len(failed), len(requests) + len(calls)),
            "limit": "0 upstream calls while off, every user answered, AI back after",
        }
        problems = []
        if calls:
            problems.append(f"{len(calls)} upstream calls while the AI was switched off")
        if failed:
            problems.append(f"{len(failed)} of {len(requests)} users got an error while off")
        if resumed == 0:
            problems.append("no successful upstream call after switching the AI back on")
        if not requests:
            raise Undecided("no user request while the AI was off", phase=phase.name)
        if problems:
            return self.result(
                Verdict.FAIL,
                "; ".join(problems),
                examples=examples(r.request_id for r in failed),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"0 upstream calls while off ({len(requests)} users answered), "
            f"{resumed if resumed is not None else 'n/a'} successful calls once back on",
            **evidence,
        )
