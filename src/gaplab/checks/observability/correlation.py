"""observability.correlation: the request id a user sent reaches the provider call."""

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
    examples,
    margin_at_most,
)


class CorrelationOptions(CheckOptions):
    min_share: float = Field(
        default=0.99, gt=0, le=1, description="share of calls carrying their request's id"
    )


class CorrelationCheck(Check):
    id = "observability.correlation"
    title = "The user's request id reaches the provider call"
    area = "observability"
    why = (
        "When a user reports a bad answer, someone has to find the model call behind it. "
        "A request id passed from the user's request to the provider call (a header such as "
        "x-request-id, or the `user`/`metadata` fields) makes one request traceable end to "
        "end across logs, traces and the provider's own dashboard."
    )
    Options = CorrelationOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        for phase in ctx.scenario.phases:
            ctx.ended(phase)
        join = ctx.record.join()
        pairs = [
            (request, call)
            for request in ctx.record.requests
            for call in join.calls_for(request.request_id)
        ]
        if not pairs:
            raise Undecided("no provider call could be joined to a user request")
        carried: Counter[str] = Counter()
        bare = []
        for request, call in pairs:
            keys = [k for k, v in call.correlation.items() if v == request.request_id]
            if keys:
                carried.update(keys)
            else:
                bare.append(request.request_id)
        share = 1 - len(bare) / len(pairs)
        numbers = {
            "calls_joined": len(pairs),
            "carrying_request_id": len(pairs) - len(bare),
            "share": round(share, 4),
            "carried_in": dict(carried.most_common(4)),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "margin": round(margin_at_most(1 - share, 1 - options.min_share), 4),
            "limit": f"≥ {options.min_share:.0%} of provider calls carry the request id",
        }
        if share < options.min_share:
            return self.result(
                Verdict.FAIL,
                f"{len(bare)} of {len(pairs)} provider calls carried no trace of the user's "
                "request id (no correlation header, `user` or `metadata` with it)",
                examples=examples(dict.fromkeys(bare)),
                **evidence,
            )
        where = ", ".join(carried) or "?"
        return self.result(
            Verdict.PASS,
            f"{len(pairs) - len(bare)} of {len(pairs)} provider calls carried the user's "
            f"request id ({where})",
            **evidence,
        )
