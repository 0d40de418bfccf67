"""resilience.model_pinned: the model asked for upstream is a dated id, not a floating alias,
and across a model swap the target's output contract still holds for the answers users get.

Which ids are aliases comes from the scenario's provider profile (`aliases:` of each model);
an id the profile does not know counts as dated when it carries a date (`-2024-07-18`,
`-20241022`, `-0125`).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
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
from gaplab.checks.resilience.joined import joined, phase_calls, request_evidence, user_saw
from gaplab.errors import InputError
from gaplab.provider.journal import ProviderCall
from gaplab.provider.profiles import ProviderProfile, load_profile
from gaplab.scenario.models import Phase

_DATED = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")


@functools.lru_cache(maxsize=8)
def _profile(name: str) -> ProviderProfile | None:
    try:
        return load_profile(name)
    except InputError:
        return None


def is_alias(model: str, profile: ProviderProfile | None) -> bool:
    spec = profile.find_model(model) if profile is not None else None
    if spec is not None:
        return spec.id != model
    return not _DATED.search(model)


def swapped(call: ProviderCall, profile: ProviderProfile | None) -> bool:
    """The provider answered with another model than the one asked for resolves to."""
    if call.model_served is None or call.model_requested is None:
        return False
    spec = profile.find_model(call.model_requested) if profile is not None else None
    return call.model_served != (spec.id if spec is not None else call.model_requested)


class ModelPinnedCheck(Check):
    id = "resilience.model_pinned"
    title = "The model is pinned to a dated id, and answers keep their contract across a swap"
    area = "resilience"
    why = (
        "An alias such as gpt-4o-mini is the provider's to move: one day it points to a new "
        "snapshot with another style, another length, another JSON habit, and the feature "
        "changes without a deploy. Asking for a dated id makes model changes a decision; "
        "validating the answer's shape catches the change when it happens anyway."
    )

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        windows = [ctx.ended(p) for p in ctx.scenario.phases]
        calls = [
            c
            for w in windows
            for c in ctx.record.calls_between(w.start, w.end or ctx.record.end)
            if c.model_requested
        ]
        if not calls:
            raise Undecided("no provider call named a model")
        profile = _profile(ctx.scenario.provider)
        asked = Counter(c.model_requested for c in calls)
        aliases = sorted(m for m in asked if m is not None and is_alias(m, profile))
        floating = [c for c in calls if c.model_requested in aliases]
        numbers: dict[str, Any] = {
            "calls": len(calls),
            "models_asked": dict(asked.most_common()),
            "models_served": dict(Counter(c.model_served for c in calls).most_common()),
            "aliases_asked": aliases,
        }
        problems = []
        if floating:
            problems.append(
                f"{len(floating)} of {len(calls)} calls asked for a floating alias "
                f"({', '.join(aliases)})"
            )
        swap_phases = [p for p in ctx.scenario.phases if _swaps(p)]
        broken: list[Any] = []
        contract = ctx.target.response.contract if ctx.target is not None else None
        note = ""
        if swap_phases and (contract is None or not contract.declared):
            note = "; the contract across the swap was not judged (declare response.contract)"
        elif swap_phases:
            swap_calls = [
                c for p in swap_phases for c in phase_calls(ctx, p) if swapped(c, profile)
            ]
            items = [i for i in joined(ctx, swap_calls) if swapped(i.last, profile)]
            broken = [i for i in items if _off_contract(i.request.outcome, i.request.status)]
            numbers["swapped_requests"] = len(items)
            numbers["off_contract"] = len(broken)
            numbers["swap_failures"] = [
                request_evidence(
                    i, asked=i.last.model_requested, served=i.last.model_served,
                    user_saw=user_saw(i.request),
                )
                for i in broken[:5]
            ]  # fmt: skip
            if broken:
                first = broken[0]
                problems.append(
                    f"{len(broken)} of {len(items)} answers after the swap broke the output "
                    f"contract (e.g. {first.request.request_id}: asked "
                    f"{first.last.model_requested}, served {first.last.model_served}, the "
                    f"user got {user_saw(first.request)})"
                )
            elif not items:
                raise Undecided("no user request could be joined to a swapped model's answer")
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": ", ".join(p.name for p in swap_phases) or None,
            "margin": closest(
                margin_none_of(len(floating), len(calls)),
                margin_none_of(len(broken), numbers.get("swapped_requests", 0)),
            ),
            "limit": "dated model ids only; the output contract holds after a model swap",
        }
        if problems:
            return self.result(
                Verdict.FAIL,
                "; ".join(problems),
                examples=examples(i.request.request_id for i in broken),
                **evidence,
            )
        served = ", ".join(sorted(m for m in asked if m))
        swap = (
            f"; {numbers['swapped_requests']} answers after the swap kept the contract"
            if "swapped_requests" in numbers
            else ""
        )
        return self.result(
            Verdict.PASS, f"every call asked for a dated id ({served}){swap}{note}", **evidence
        )


def _swaps(phase: Phase) -> bool:
    return any(f.provider is not None and f.provider.model_swap for f in phase.faults)


def _off_contract(outcome: str, status: int) -> bool:
    """An answer passed on that breaks the contract (the classifier calls it an error at
    200), or the target failing on the new shape (5xx)."""
    return outcome == "error" and (200 <= status < 300 or status >= 500)
