"""cost.cache: repeated identical questions are answered without asking the model every
time: upstream calls for them at most half the user requests."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckOptions,
    CheckResult,
    Verdict,
    closest,
    margin_at_most,
)
from gaplab.checks.cost.common import needs, prices, run_requests
from gaplab.engine.join import call_references
from gaplab.metrics.cost import call_cost


class CacheOptions(CheckOptions):
    max_share: float = Field(
        default=0.5, gt=0, le=1, description="upstream calls per repeated question, at most"
    )
    min_requests: int = Field(default=20, ge=1, description="repeated questions needed")
    min_answered: float = Field(
        default=0.9, ge=0, le=1, description="share of them that must get a normal answer"
    )


class CacheCheck(Check):
    id = "cost.cache"
    title = "Repeated identical questions do not each cost a model call"
    area = "cost"
    why = (
        "Support traffic repeats itself: the same few questions make up a large share of "
        "it. A feature that asks the model again for every one of them pays for the same "
        "answer hundreds of times, and spends its rate limit on it. An exact-match cache "
        "(or a semantic one) answers them for nothing."
    )
    Options = CacheOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        requests, phases = run_requests(ctx)
        repeated = [r for r in requests if r.input_kind == "repeated"]
        if len(repeated) < options.min_requests:
            raise needs(
                f"needs {options.min_requests} repeated questions, {len(repeated)} were sent",
                "`inputs: {repeated: {pool: 5}}`",
            )
        join = ctx.record.join()
        joined = [c for r in repeated for c in join.calls_for(r.request_id)]
        # A repeated question carries no reference, so when the target forwards no request
        # id its calls join to nothing: those with no reference in their messages count.
        unjoined = [c for c in join.unjoined if not call_references(c)]
        calls = joined + unjoined
        share = len(calls) / len(repeated)
        answered = sum(1 for r in repeated if r.outcome == "ok")
        answered_share = answered / len(repeated)
        table = prices(ctx)
        numbers: dict[str, Any] = {
            "repeated_questions": len(repeated),
            "upstream_calls": len(calls),
            "calls_per_question": round(share, 3),
            "joined_calls": len(joined),
            "unjoined_calls": len(unjoined),
            "answered_ok": answered,
            "usd": sum(call_cost(c, table) for c in calls),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phases,
            "margin": closest(
                margin_at_most(share, options.max_share),
                # As the security checks' question health: the unanswered share against
                # what is allowed (all answered: 1.0, not a borderline 0.11).
                margin_at_most(1 - answered_share, 1 - options.min_answered)
                if options.min_answered < 1
                else None,
            ),
            "limit": (
                f"upstream calls ≤ {options.max_share:.0%} of repeated questions, "
                f"≥ {options.min_answered:.0%} of them answered"
            ),
        }
        problems = []
        if share > options.max_share:
            problems.append(
                f"{len(calls)} upstream calls for {len(repeated)} repeated questions "
                f"({share:.0%}; at most {options.max_share:.0%}): the same answers were paid "
                f"for again (${numbers['usd']:.4f})"
            )
        if answered_share < options.min_answered:
            problems.append(
                f"only {answered} of {len(repeated)} repeated questions got a normal answer "
                f"({answered_share:.0%}; needs {options.min_answered:.0%})"
            )
        if problems:
            return self.result(Verdict.FAIL, "; ".join(problems), **evidence)
        return self.result(
            Verdict.PASS,
            f"{len(calls)} upstream calls for {len(repeated)} repeated questions ({share:.0%}); "
            f"{answered_share:.0%} of them answered",
            **evidence,
        )
