"""All known checks by id, and how a scenario's check list becomes results."""

from __future__ import annotations

from pydantic import ValidationError

from gaplab.checks.base import Check, CheckContext, CheckResult, Undecided, Verdict
from gaplab.checks.governance import GOVERNANCE_CHECKS
from gaplab.checks.resilience import RESILIENCE_CHECKS
from gaplab.checks.security import SECURITY_CHECKS
from gaplab.checks.thresholds import evaluate_thresholds
from gaplab.errors import InputError, Problem
from gaplab.scenario.models import Scenario

CHECKS: dict[str, Check] = {
    check.id: check for check in (*RESILIENCE_CHECKS, *SECURITY_CHECKS, *GOVERNANCE_CHECKS)
}


def validate_checks(scenario: Scenario, file: str) -> None:
    """Unknown check ids and bad options are input errors, found before the run starts."""
    problems = []
    for index, ref in enumerate(scenario.checks):
        check = CHECKS.get(ref.id)
        if check is None:
            problems.append(
                Problem(
                    file,
                    None,
                    None,
                    f"checks[{index}]",
                    f"unknown check {ref.id!r}; known: {', '.join(CHECKS)}",
                )
            )
            continue
        try:
            check.Options.model_validate(ref.options)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                field = ".".join(str(p) for p in error["loc"])
                problems.append(
                    Problem(
                        file,
                        None,
                        None,
                        f"checks[{index}].{ref.id}.{field}",
                        error["msg"].removeprefix("Value error, "),
                    )
                )
    if problems:
        raise InputError(problems)


def evaluate(ctx: CheckContext, *, decided_only: bool = False) -> list[CheckResult]:
    """Every check of the scenario, then its thresholds. A check the run cannot decide is
    `not_run` with the reason; with `decided_only` (live ticking while the run goes) the
    ones still waiting for a phase are left out instead."""
    results = []
    for ref in ctx.scenario.checks:
        check = CHECKS[ref.id]
        try:
            results.append(check.evaluate(ctx, check.Options.model_validate(ref.options)))
        except Undecided as undecided:
            if undecided.pending and decided_only:
                continue
            results.append(check.result(Verdict.NOT_RUN, undecided.reason, phase=undecided.phase))
    results.extend(evaluate_thresholds(ctx, decided_only=decided_only))
    return results
