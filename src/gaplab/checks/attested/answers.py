"""Read an attestation file and turn its answers into results, one per attested item."""

from __future__ import annotations

import datetime
from pathlib import Path

from gaplab.checks.attested import ATTESTED_CHECKS
from gaplab.checks.base import CheckResult
from gaplab.errors import InputError
from gaplab.scenario.attest_models import DEFAULT_MAX_AGE_DAYS, AttestationFile
from gaplab.scenario.loader import load_document, problem_at


def load_attestation(path: Path) -> AttestationFile:
    """The file, validated; unknown item ids are errors at their line."""
    attestation, document = load_document(path, AttestationFile)
    known = {check.id for check in ATTESTED_CHECKS}
    problems = [
        problem_at(
            document.file,
            document.positions,
            ("items", item),
            f"unknown attested item {item!r}; attested items: {', '.join(sorted(known))}",
            field=f"items.{item}",
        )
        for item in attestation.items
        if item not in known
    ]
    if problems:
        raise InputError(problems)
    return attestation


def attested_results(
    attestation: AttestationFile | None,
    *,
    today: datetime.date | None = None,
    source: str = "readiness.attest.yaml",
) -> list[CheckResult]:
    """Every attested item's result (not_run for those not answered, or without a file)."""
    day = today or datetime.date.today()
    items = attestation.items if attestation is not None else {}
    max_age = attestation.max_age if attestation is not None else DEFAULT_MAX_AGE_DAYS
    return [
        check.from_answer(items.get(check.id), today=day, max_age=max_age, source=source)
        for check in ATTESTED_CHECKS
    ]
