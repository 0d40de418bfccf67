"""resilience.retry_after: after a 429 that says how long to wait, no retry of that request
reaches the provider sooner."""

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
    margin_none_of,
)
from gaplab.checks.resilience.joined import faulty_phases, joined, phase_calls
from gaplab.provider.faults import ProviderFault
from gaplab.scenario.durations import Duration

NEEDS = (
    "needs a phase where the provider answers 429 with a wait (provider: {error: 429, "
    "retry_after: 2s}, or rate_limits)"
)


def tells_a_wait(fault: ProviderFault) -> bool:
    return fault.retry_after is not None or fault.rate_limits is not None


class RetryAfterOptions(CheckOptions):
    tolerance: Duration = Field(default=0.0, ge=0, description="a retry this much early passes")


class RetryAfterCheck(Check):
    id = "resilience.retry_after"
    title = "A retry never comes before the provider's retry-after"
    area = "resilience"
    why = (
        "A 429 with retry-after is the provider saying exactly when it will accept the "
        "request again. Retrying sooner is a wasted call that is certain to fail, counts "
        "against the limit again and can push the account into longer penalties. The wait "
        "is the later of retry-after and retry-after-ms: no retry before either says."
    )
    Options = RetryAfterOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        phases = faulty_phases(ctx, tells_a_wait, NEEDS)
        name = ", ".join(p.name for p, _ in phases)
        told = [
            c for p, _ in phases for c in phase_calls(ctx, p) if c.retry_after and c.status == 429
        ]
        if not told:
            raise Undecided(f"no call in {name} was answered 429 with a retry-after", phase=name)
        gaps: list[dict[str, Any]] = []
        for item in joined(ctx, told):
            for earlier, later in zip(item.calls, item.calls[1:], strict=False):
                if earlier.status != 429 or not earlier.retry_after:
                    continue
                gap = later.t_arrival - earlier.t_end
                gaps.append(
                    {
                        "request": item.request.request_id,
                        "asked_s": earlier.retry_after,
                        "gap_s": round(gap, 3),
                        "early": gap + options.tolerance < earlier.retry_after,
                    }
                )
        early = [g for g in gaps if g["early"]]
        shortest = min(gaps, key=lambda g: g["gap_s"] - g["asked_s"], default=None)
        numbers: dict[str, Any] = {
            "told_to_wait": len(told),
            "retried": len(gaps),
            "early": len(early),
            "shortest_gap_s": None if shortest is None else shortest["gap_s"],
            "asked_s": None if shortest is None else shortest["asked_s"],
            "early_retries": early[:5],
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": name,
            "margin": margin_none_of(len(early), len(gaps)),
            "limit": "no retry before the provider's retry-after",
        }
        if early:
            worst = min(early, key=lambda g: g["gap_s"] - g["asked_s"])
            return self.result(
                Verdict.FAIL,
                f"{len(early)} of {len(gaps)} retries came before the provider's retry-after "
                f"(e.g. {worst['request']}: retried after {worst['gap_s']:.2f}s, asked to wait "
                f"{worst['asked_s']:g}s)",
                examples=examples(g["request"] for g in early),
                **evidence,
            )
        if not gaps:
            return self.result(
                Verdict.PASS,
                f"no request was retried after the {len(told)} answers that asked to wait",
                **evidence,
            )
        assert shortest is not None
        return self.result(
            Verdict.PASS,
            f"all {len(gaps)} retries waited at least the retry-after (shortest "
            f"{shortest['gap_s']:.2f}s for a wait of {shortest['asked_s']:g}s)",
            **evidence,
        )
