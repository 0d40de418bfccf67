"""governance.consent: a user who opted out of AI processing causes no upstream call and
still gets an answer."""

from __future__ import annotations

from typing import Any

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckResult,
    Undecided,
    Verdict,
    closest,
    examples,
    margin_none_of,
)


class ConsentCheck(Check):
    id = "governance.consent"
    title = "Users who opted out of AI are never sent to the provider, and still get an answer"
    area = "governance"
    why = (
        "An opt-out is a promise: this person's words do not go to an AI provider. It has to "
        "hold on every path (retries, caches, background enrichment), and the person must "
        "still be served, by a person or a non-AI answer, not with an error."
    )

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        if ctx.target is not None and ctx.target.request.opt_out is None:
            raise Undecided("declare `request.opt_out` in the target file to judge this")
        if ctx.scenario.load.opt_out <= 0:
            raise Undecided("no user opted out (set `load.opt_out`, e.g. 0.3)")
        for phase in ctx.scenario.phases:
            ctx.ended(phase)
        opted = [r for r in ctx.record.requests if r.opted_out]
        if not opted:
            raise Undecided("no request from an opted-out user finished")
        join = ctx.record.join()
        if ctx.record.calls and join.joined == 0:
            raise Undecided(
                "no provider call could be joined to a user request (the target forwards "
                "neither the request id nor the message text), so calls cannot be attributed"
            )
        called = [r for r in opted if join.calls_for(r.request_id)]
        unanswered = [r for r in opted if r.outcome not in ("ok", "degraded")]
        numbers: dict[str, Any] = {
            "opted_out_requests": len(opted),
            "sent_to_provider": len(called),
            "upstream_calls": sum(len(join.calls_for(r.request_id)) for r in called),
            "not_answered": len(unanswered),
            "unjoined_calls": len(join.unjoined),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "margin": closest(
                margin_none_of(len(called), len(opted)),
                margin_none_of(len(unanswered), len(opted)),
            ),
            "limit": "0 upstream calls for opted-out users, every one answered",
        }
        problems = []
        if called:
            problems.append(
                f"{len(called)} of {len(opted)} requests of opted-out users were sent to the "
                f"provider (e.g. {called[0].request_id})"
            )
        if unanswered:
            why = unanswered[0].detail or unanswered[0].outcome
            problems.append(f"{len(unanswered)} of {len(opted)} got no answer ({why})")
        if problems:
            return self.result(
                Verdict.FAIL,
                "; ".join(problems),
                examples=examples(r.request_id for r in called + unanswered),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"none of {len(opted)} requests of opted-out users reached the provider, all "
            "were answered",
            **evidence,
        )
