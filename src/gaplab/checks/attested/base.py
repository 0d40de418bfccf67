"""Attested items: answered by a person in the attestation file, never measured.

An attested item is a `Check` like the others (it has an id, an area, a "why"), so the
scorecard, `lab list` and the reports treat it alike; its evidence kind is `attested` and
the scorecard counts it in its own column. Inside a scenario run it is `not_run` (a run
cannot answer it); the suite decides it from the attestation file with `from_answer`:
`yes` passes, `partial` warns, `no` fails, an answer older than `max_age` warns, and an
item nobody answered is `not_run`.
"""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from gaplab.checks.base import Check, CheckContext, CheckResult, EvidenceKind, Undecided, Verdict
from gaplab.scenario.attest_models import AttestedAnswer

NOT_ANSWERED = "attested item: answer it in readiness.attest.yaml (`lab attest init` writes one)"


class AttestedCheck(Check):
    kind = EvidenceKind.ATTESTED
    question: ClassVar[str]  # what the person answers, as the template asks it

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        raise Undecided(NOT_ANSWERED)

    def from_answer(
        self,
        answer: AttestedAnswer | None,
        *,
        today: datetime.date,
        max_age: int,
        source: str = "readiness.attest.yaml",
    ) -> CheckResult:
        if answer is None:
            return self.result(Verdict.NOT_RUN, f"not answered in {source}")
        age = (today - answer.when).days
        numbers: dict[str, Any] = {
            "answer": answer.answer,
            "who": answer.who,
            "when": answer.when.isoformat(),
            "age_days": age,
            "max_age_days": max_age,
        }
        if answer.link:
            numbers["link"] = answer.link
        if answer.note:
            numbers["note"] = answer.note
        said = f"{answer.who} answered {answer.answer!r} on {answer.when.isoformat()}"
        evidence: dict[str, Any] = {"numbers": numbers, "limit": f"answered within {max_age} days"}
        if answer.answer == "no":
            return self.result(Verdict.FAIL, said, **evidence)
        if answer.answer == "partial":
            return self.result(Verdict.WARN, said + " (partly done)", **evidence)
        if age > max_age:
            return self.result(
                Verdict.WARN, said + f", {age} days ago: older than {max_age} days", **evidence
            )
        return self.result(Verdict.PASS, said, **evidence)
