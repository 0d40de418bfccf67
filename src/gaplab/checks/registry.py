"""All known checks by id, and how a scenario's check list becomes results."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from gaplab.checks.attested import ATTESTED_CHECKS
from gaplab.checks.base import Check, CheckContext, CheckResult, Undecided, Verdict
from gaplab.checks.cost import COST_CHECKS
from gaplab.checks.governance import GOVERNANCE_CHECKS
from gaplab.checks.integration import INTEGRATION_CHECKS
from gaplab.checks.observability import OBSERVABILITY_CHECKS
from gaplab.checks.resilience import RESILIENCE_CHECKS
from gaplab.checks.security import SECURITY_CHECKS
from gaplab.checks.thresholds import evaluate_thresholds
from gaplab.errors import InputError, Problem
from gaplab.scenario.loader import PathKey, Position, problem_at, pydantic_errors
from gaplab.scenario.models import Scenario

CHECKS: dict[str, Check] = {
    check.id: check
    for check in (
        *RESILIENCE_CHECKS,
        *COST_CHECKS,
        *OBSERVABILITY_CHECKS,
        *SECURITY_CHECKS,
        *GOVERNANCE_CHECKS,
        *INTEGRATION_CHECKS,
        *ATTESTED_CHECKS,
    )
}


def validate_checks(
    scenario: Scenario, file: str, positions: Mapping[PathKey, Position] | None = None
) -> None:
    """Unknown check ids and bad options are input errors, found before the run starts;
    with the file's `positions` (from `load_document`), located at line and column."""
    problems: list[Problem] = []
    for index, ref in enumerate(scenario.checks):
        here: PathKey = ("checks", index)
        # `- id: {options}` puts the options under the id; `- {id: x, options: {...}}`
        # under `options`; a bare `- id` has none.
        short_form = positions is not None and (*here, ref.id) in positions
        check = CHECKS.get(ref.id)
        if check is None:
            problems.append(
                problem_at(
                    file,
                    positions,
                    (*here, ref.id) if short_form else (*here, "id"),
                    f"unknown check {ref.id!r}; known: {', '.join(CHECKS)}",
                    field=f"checks[{index}]",
                )
            )
            continue
        try:
            check.Options.model_validate(ref.options)
        except ValidationError as exc:
            base: PathKey = (*here, ref.id) if short_form else (*here, "options")
            for loc, message in pydantic_errors(exc):
                # Named `checks[1].resilience.recovery.within`, whichever form was written.
                field = f"checks[{index}].{ref.id}." + ".".join(str(p) for p in loc)
                problems.append(
                    problem_at(file, positions, (*base, *loc), message, field=field.rstrip("."))
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
