"""resilience.bad_output: a 200 from the provider that is no answer (empty, a refusal, cut
by `length`, withheld by `content_filter`, invalid JSON where JSON was asked, invalid tool
arguments) never reaches the user as a normal answer, and never crashes the target."""

from __future__ import annotations

from collections import Counter
from typing import Any

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckResult,
    Undecided,
    Verdict,
    examples,
    margin_none_of,
)
from gaplab.checks.resilience.joined import (
    Joined,
    faulty_phases,
    joined,
    phase_calls,
    request_evidence,
    user_saw,
)
from gaplab.engine.events import UserRequestFinished
from gaplab.provider.faults import BAD_OUTPUTS, ProviderFault
from gaplab.provider.journal import ProviderCall

NEEDS = (
    "needs a phase where the model answers badly (provider: {behaviour: empty | refusal | "
    "length | content_filter | invalid_json | invalid_tool_args})"
)
# A bad answer the journal shows without a planted mark: how the dialects finish it.
_FINISHES = {
    "length": "length",
    "max_tokens": "length",
    "content_filter": "content_filter",
    "refusal": "refusal",
}


def bad_kind(call: ProviderCall) -> str | None:
    """What was wrong with a 200 the model gave, from the journal's ground truth."""
    if call.status != 200:
        return None
    return call.planted.get("bad_output") or _FINISHES.get(call.finish_reason or "")


def handled(request: UserRequestFinished) -> bool:
    """Caught: the fallback, a refusal, a clean 4xx, or the stream's explicit error event.
    Not caught: an ok answer, a 200 without a usable answer (an empty or off-contract
    answer passed on), a 5xx (the target crashed on it), no answer at all."""
    if request.outcome in ("degraded", "refused"):
        return True
    if request.outcome != "error":
        return False
    return request.stream_end == "error_event" or 400 <= request.status < 500


def _is_bad_behaviour(fault: ProviderFault) -> bool:
    return fault.behaviour in BAD_OUTPUTS


class BadOutputCheck(Check):
    id = "resilience.bad_output"
    title = "A 200 that is no answer is never shown as one"
    area = "resilience"
    why = (
        "Models fail politely: an empty message, a refusal, an answer cut off by the token "
        "limit, JSON that does not parse, all with status 200. A feature that only checks "
        "the status shows users half an answer, an empty box or a crash page; one that "
        "checks the answer falls back cleanly."
    )

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        phases = faulty_phases(ctx, _is_bad_behaviour, NEEDS)
        name = ", ".join(p.name for p, _ in phases)
        bad_calls = [c for p, _ in phases for c in phase_calls(ctx, p) if bad_kind(c)]
        # Judged on the call that decided the answer: a request that retried and got a
        # good answer may be ok.
        items = [i for i in joined(ctx, bad_calls) if bad_kind(i.last)]
        items = [i for i in items if i.request.outcome != "unsafe"]
        if not items:
            raise Undecided(f"no user request could be joined to a bad answer in {name}")
        passed_on = [i for i in items if not handled(i.request)]
        kinds: dict[str, Counter[str]] = {}
        for item in items:
            kind = bad_kind(item.last) or "?"
            counts = kinds.setdefault(kind, Counter())
            counts["requests"] += 1
            counts["passed_on"] += not handled(item.request)
        numbers: dict[str, Any] = {
            "requests": len(items),
            "passed_on": len(passed_on),
            "by_kind": {k: dict(v) for k, v in sorted(kinds.items())},
            "what_users_got": dict(Counter(user_saw(i.request) for i in passed_on).most_common(5)),
            "failures": [_evidence(i) for i in passed_on[:5]],
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": name,
            "margin": margin_none_of(len(passed_on), len(items)),
            "limit": "no bad answer passed on as a normal one, no 5xx",
        }
        if passed_on:
            worst = sorted(kinds.items(), key=lambda kv: -kv[1]["passed_on"])
            top = ", ".join(f"{k} {v['passed_on']}/{v['requests']}" for k, v in worst
                            if v["passed_on"])  # fmt: skip
            first = passed_on[0]
            return self.result(
                Verdict.FAIL,
                f"{len(passed_on)} of {len(items)} bad answers reached users unchecked ({top}; "
                f"e.g. {first.request.request_id}: the model's answer was "
                f"{bad_kind(first.last)}, the user got {user_saw(first.request)})",
                examples=examples(i.request.request_id for i in passed_on),
                **evidence,
            )
        outcomes = Counter(i.request.outcome for i in items)
        return self.result(
            Verdict.PASS,
            f"all {len(items)} bad answers were caught ("
            + ", ".join(f"{n} {o}" for o, n in outcomes.most_common())
            + f"; kinds: {', '.join(sorted(kinds))})",
            **evidence,
        )


def _evidence(item: Joined) -> dict[str, Any]:
    return request_evidence(item, model_answer=bad_kind(item.last), user_saw=user_saw(item.request))
