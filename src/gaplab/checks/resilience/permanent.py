"""resilience.no_retry_permanent: a permanent provider error (400, 401, 403, 404
`model_not_found`, 422, `context_length_exceeded`, `insufficient_quota`) is never retried,
and the user gets a clean answer, not a 500 after retries."""

from __future__ import annotations

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
from gaplab.checks.resilience.joined import (
    Joined,
    request_evidence,
    requests_hit,
    user_saw,
)
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall

PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 422})
PERMANENT_CODES = frozenset(
    {
        "insufficient_quota",
        "credit_balance_exhausted",
        "project_spend_limit_exceeded",
        "context_length_exceeded",
        "invalid_api_key",
        "model_not_found",
    }
)
NEEDS = (
    "needs a phase where the provider answers a permanent error (400, 401, 404, "
    "context_length_exceeded, insufficient_quota)"
)


def is_permanent_fault(fault: ProviderFault) -> bool:
    return fault.error is not None and (
        fault.error in PERMANENT_STATUSES or fault.code in PERMANENT_CODES
    )


class PermanentOptions(CheckOptions):
    accepted_status: tuple[int, ...] = Field(
        default=(),
        description="4xx statuses the target may answer a permanent error with (besides its "
        "declared fallback or refusal), e.g. [400, 422]",
    )


def _retried(item: Joined, first: ProviderCall) -> int:
    """Calls the request made after its first permanent error."""
    return sum(1 for c in item.calls if c.t_arrival > first.t_arrival)


class NoRetryPermanentCheck(Check):
    id = "resilience.no_retry_permanent"
    title = "Permanent provider errors are not retried, and users get a clean answer"
    area = "resilience"
    why = (
        "A bad request, a wrong key, a missing model or an exhausted quota fails the same "
        "way every time: retrying only multiplies the calls (and, for quotas, the bill) and "
        "the wait. The feature should stop at the first answer and tell the user something "
        "useful, not a 500 after three tries."
    )
    Options = PermanentOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        found = requests_hit(ctx, is_permanent_fault, NEEDS)
        hit, items, name = found.calls, found.items, found.phase_names
        hit_ids = {c.call_id for c in hit}
        retried, unclean = [], []
        for item in items:
            first = next(c for c in item.calls if c.call_id in hit_ids)
            if _retried(item, first):
                retried.append(item)
            if not self._clean(item, options):
                unclean.append(item)
        bad = {i.request.request_id: i for i in retried + unclean}
        by_status: dict[str, list[int]] = {}
        for item in items:
            status = str(next(c.status for c in item.calls if c.call_id in hit_ids))
            by_status.setdefault(status, []).append(len(item.calls))
        numbers: dict[str, Any] = {
            "requests": len(items),
            "retried": len(retried),
            "not_clean": len(unclean),
            "calls_per_request": {
                status: round(sum(n) / len(n), 2) for status, n in sorted(by_status.items())
            },
            "failures": [request_evidence(i, user_saw=user_saw(i.request)) for i in
                         list(bad.values())[:5]],
        }  # fmt: skip
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": name,
            "margin": margin_none_of(len(bad), len(items)),
            "limit": "1 provider call per request; a degraded, refused or accepted 4xx answer",
        }
        if bad:
            example = next(iter(bad.values()))
            problems = []
            if retried:
                problems.append(f"{len(retried)} of {len(items)} requests were retried")
            if unclean:
                problems.append(f"{len(unclean)} got no clean answer")
            return self.result(
                Verdict.FAIL,
                "; ".join(problems) + f" (e.g. {example.request.request_id}: the provider saw "
                f"{request_evidence(example)['trace']}; the user got {user_saw(example.request)})",
                examples=examples(bad),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"all {len(items)} requests that met a permanent error made one call and got a "
            "clean answer",
            **evidence,
        )

    @staticmethod
    def _clean(item: Joined, options: Any) -> bool:
        request = item.request
        if request.outcome in ("ok", "degraded", "refused"):  # ok: e.g. another provider
            return True
        return request.outcome == "error" and request.status in options.accepted_status
