"""resilience.retry_transient: one transient failure (503 or 429 on a request's first
attempt) is retried, and the user gets a normal answer, within a bounded number of calls."""

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
    request_evidence,
    requests_hit,
    user_saw,
)
from gaplab.checks.resilience.permanent import is_permanent_fault
from gaplab.provider.faults import ProviderFault

NEEDS = (
    "needs a phase where only each request's first attempt fails with a transient error "
    "(provider: {error: 503, first_attempt: true})"
)


def is_transient_blip(fault: ProviderFault) -> bool:
    error = fault.error
    return (
        fault.first_attempt
        and error is not None
        and (error == 429 or error >= 500)
        and not is_permanent_fault(fault)
    )


class RetryTransientOptions(CheckOptions):
    max_calls: int = Field(default=3, ge=1, description="provider calls allowed per request")


class RetryTransientCheck(Check):
    id = "resilience.retry_transient"
    title = "One transient provider error is retried: the user still gets a normal answer"
    area = "resilience"
    why = (
        "Providers drop single requests all the time: a 503 from an overloaded node, a 429 "
        "from a brief burst. One more try a moment later almost always succeeds, so a "
        "feature that gives up at the first error turns routine blips into user-visible "
        "failures; one that retries without a bound turns them into a storm."
    )
    Options = RetryTransientOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        found = requests_hit(ctx, is_transient_blip, NEEDS)
        items, name = found.items, found.phase_names
        failed = [i for i in items if i.request.outcome != "ok"]
        costly = [i for i in items if len(i.calls) > options.max_calls]
        bad = {i.request.request_id: i for i in failed + costly}
        calls = [len(i.calls) for i in items]
        numbers: dict[str, Any] = {
            "requests": len(items),
            "ok": len(items) - len(failed),
            "over_max_calls": len(costly),
            "max_calls_seen": max(calls),
            "mean_calls": round(sum(calls) / len(calls), 2),
            "failures": [request_evidence(i, user_saw=user_saw(i.request)) for i in
                         list(bad.values())[:5]],
        }  # fmt: skip
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": name,
            "margin": margin_none_of(len(bad), len(items)),
            "limit": f"every request ok, ≤ {options.max_calls} provider calls each",
        }
        if bad:
            first = next(iter(bad.values()))
            problems = []
            if failed:
                problems.append(f"{len(failed)} of {len(items)} requests were not ok")
            if costly:
                problems.append(f"{len(costly)} took more than {options.max_calls} calls")
            return self.result(
                Verdict.FAIL,
                "; ".join(problems) + f" after one transient error (e.g. "
                f"{first.request.request_id}: {user_saw(first.request)}; the provider saw "
                f"{request_evidence(first)['trace']})",
                examples=examples(bad),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"all {len(items)} requests whose first attempt failed got an ok answer, with "
            f"{numbers['mean_calls']:g} calls on average (at most {max(calls)})",
            **evidence,
        )
