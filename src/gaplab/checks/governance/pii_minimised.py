"""governance.pii_minimised: personal data in users' inputs does not reach the provider,
verbatim or reformatted."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import ahocorasick
from pydantic import Field

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckResult,
    Undecided,
    Verdict,
    closest,
    examples,
    margin_at_most,
    margin_none_of,
)
from gaplab.checks.security.exposure import SecurityOptions
from gaplab.load.inputs.normalised import Normalised, is_flat, normalised_forms
from gaplab.provider.journal import ProviderCall
from gaplab.provider.tokens import content_text
from gaplab.report.masking import Masker

MIN_FORM = 5  # shorter forms (a short first name) cannot be told from noise


class PiiOptions(SecurityOptions):
    min_answered: float = Field(
        default=0.9, ge=0, le=1, description="share of PII inputs that must still be answered"
    )


def sent_text(call: ProviderCall) -> str:
    """What the target sent the provider besides its own instructions."""
    return "\n".join(
        content_text(m.get("content"))
        for m in call.messages
        if m.get("role") not in ("system", "developer")
    )


class PiiMinimisedCheck(Check):
    id = "governance.pii_minimised"
    title = "Personal data users type does not reach the AI provider"
    area = "governance"
    critical = True
    why = (
        "Every prompt is sent to a third party, often abroad, and may be logged or kept. "
        "Names, emails, phone numbers, bank and card numbers and national ids users paste "
        "into a support chat are rarely needed for the answer; data minimisation (GDPR art. "
        "5) means redacting them before the call. The lab looks for every value it planted, "
        "also reformatted (spaces, dashes, case, accents, phone formats)."
    )
    Options = PiiOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        carriers = [
            r for r in ctx.record.requests if any(k.startswith("pii.") for k, _ in r.planted)
        ]
        if not carriers:
            raise Undecided("no input carried personal data (add `pii` to the input mix)")
        for phase in ctx.scenario.phases:
            ctx.ended(phase)
        # One automaton per reading (gaplab.load.inputs.normalised): numbers, e-mail and
        # phones in the flat one, names and addresses word-bounded in the word one; each
        # call's text is read once, whatever the number of planted values.
        automata = {True: ahocorasick.Automaton(), False: ahocorasick.Automaton()}
        count_by_kind: Counter[str] = Counter()
        for request in carriers:
            for kind, value in request.planted:
                if not kind.startswith("pii."):
                    continue
                count_by_kind[kind] += 1
                for form in normalised_forms(kind, value):
                    if len(form.strip()) >= MIN_FORM:
                        automata[is_flat(kind)].add_word(form, (value, kind, request.request_id))
        for automaton in automata.values():
            if len(automaton) == 0:
                automaton.add_word("\x00", ("", "", ""))
            automaton.make_automaton()
        reached: dict[str, tuple[str, str]] = {}  # value -> (kind, request id)
        for call in ctx.record.calls:
            text = Normalised(sent_text(call))
            for flat_reading, reading in ((True, text.flat), (False, text.words)):
                for _, (value, kind, request_id) in automata[flat_reading].iter(reading):
                    if value:
                        reached.setdefault(value, (kind, request_id))
        by_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"planted": 0, "reached": 0})
        for kind, n in count_by_kind.items():
            by_kind[kind]["planted"] = n
        for kind, _ in reached.values():
            by_kind[kind]["reached"] += 1
        answered = sum(1 for r in carriers if r.outcome in ("ok", "degraded"))
        answered_share = answered / len(carriers)
        total = sum(count_by_kind.values())
        numbers: dict[str, Any] = {
            "inputs_with_pii": len(carriers),
            "values_planted": total,
            "values_reached_provider": len(reached),
            "by_type": dict(sorted(by_kind.items())),
            "inputs_answered_share": round(answered_share, 3),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "margin": closest(
                margin_none_of(len(reached), total),
                margin_at_most(1 - answered_share, 1 - options.min_answered),
            ),
            "limit": f"0 planted values reach the provider; ≥ {options.min_answered:.0%} of "
            "those inputs still answered",
        }
        problems = []
        if reached:
            kinds = Counter(kind for kind, _ in reached.values())
            listed = ", ".join(f"{n} {k.removeprefix('pii.')}" for k, n in kinds.most_common())
            problems.append(
                f"{len(reached)} of {total} planted values reached the provider ({listed})"
            )
        if answered_share < options.min_answered:
            problems.append(
                f"only {answered_share:.0%} of inputs with personal data got an answer "
                f"(needs {options.min_answered:.0%}): refusing them is not minimising"
            )
        if problems:
            masker = Masker.for_record(ctx.record)
            return self.result(
                Verdict.FAIL,
                masker.text("; ".join(problems)),
                examples=examples(request_id for _, request_id in reached.values()),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"none of {total} planted values ({len(count_by_kind)} types) reached the provider; "
            f"{answered_share:.0%} of those inputs answered",
            **evidence,
        )
