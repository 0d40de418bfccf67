"""cost.output_cap: every upstream call caps its answer (`max_tokens` /
`max_completion_tokens`), at or under the target's declared `limits.output_tokens`."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import Field

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckOptions,
    CheckResult,
    Verdict,
    examples,
    margin_none_of,
)
from gaplab.checks.cost.common import limits, prices, run_requests
from gaplab.metrics.cost import call_cost


class OutputCapOptions(CheckOptions):
    max_output_tokens: int | None = Field(
        default=None, gt=0, description="the cap (default: the target's limits.output_tokens)"
    )


class OutputCapCheck(Check):
    id = "cost.output_cap"
    title = "Every upstream call caps the length of its answer"
    area = "cost"
    why = (
        "Output tokens cost several times what input tokens do, and a model asked the wrong "
        "way (or told to by an injected instruction) can write until its own limit: tens "
        "of thousands of tokens billed for one answer nobody reads. Setting max_tokens on "
        "every call is the one line that bounds the worst case."
    )
    Options = OutputCapOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        _, phases = run_requests(ctx)  # every phase ended: the whole journal counts
        calls = [c for c in ctx.record.calls if not c.path.endswith("/embeddings")]
        if not calls:
            return self.result(
                Verdict.NOT_RUN, "the target made no upstream call to judge", phase=phases
            )
        cap = options.max_output_tokens or limits(ctx).output_tokens
        uncapped = [c for c in calls if c.max_tokens is None]
        over = [c for c in calls if cap is not None and c.max_tokens and c.max_tokens > cap]
        table = prices(ctx)
        join = ctx.record.join()
        bad = uncapped + over
        requests = [r.request_id for r in join.requests_of(bad)]
        biggest = max(calls, key=lambda c: c.tokens_out)
        numbers: dict[str, Any] = {
            "calls": len(calls),
            "uncapped": len(uncapped),
            "over_cap": len(over),
            "cap_tokens": cap,
            "max_tokens_sent": dict(Counter(str(c.max_tokens) for c in calls).most_common(5)),
            "largest_answer_tokens": biggest.tokens_out,
            "largest_answer_usd": call_cost(biggest, table),
            "uncapped_output_tokens": sum(c.tokens_out for c in uncapped),
            "uncapped_usd": sum(call_cost(c, table) for c in uncapped),
        }
        limit = "every call sets max_tokens" + (f" ≤ {cap:,}" if cap is not None else "")
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phases,
            "margin": margin_none_of(len(bad), len(calls)),
            "limit": limit,
        }
        if bad:
            parts = []
            if uncapped:
                parts.append(f"{len(uncapped)} of {len(calls)} upstream calls set no max_tokens")
            if over:
                parts.append(
                    f"{len(over)} asked for more than the declared {cap:,} "
                    f"(up to {max(c.max_tokens or 0 for c in over):,})"
                )
            where = f" (e.g. request {requests[0]})" if requests else ""
            return self.result(
                Verdict.FAIL,
                "; ".join(parts) + f"{where}; the longest answer was {biggest.tokens_out:,} tokens "
                f"(${numbers['largest_answer_usd']:.4f})",
                examples=examples(requests),
                **evidence,
            )
        caps = ", ".join(numbers["max_tokens_sent"])
        return self.result(
            Verdict.PASS,
            f"all {len(calls)} upstream calls set max_tokens ({caps}"
            + (f"; cap {cap:,}" if cap is not None else "")
            + f"); the longest answer was {biggest.tokens_out:,} tokens",
            **evidence,
        )
