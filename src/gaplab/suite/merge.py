"""One scorecard from several scenario reports: each item keeps its worst verdict across
the scenarios that exercised it, with each scenario's evidence; the attested items come
from the attestation file; then gaplab.checks.scoring scores the merged items (measured
and probed in the score, attested in their own column), so a suite is judged by the same
rules as one run.

Worst means fail > warn > pass > not_run: an item `not_run` in one scenario (it cannot
exercise it there) and decided in another takes the decided verdict; a fail anywhere is a
fail. The suite is complete only when every scenario ran to its end; a fault that hit
nothing in any scenario is a missed experiment, as in a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gaplab.checks.base import CheckResult, Evidence, EvidenceKind, Verdict
from gaplab.checks.scoring import Scorecard, score

SEVERITY = {Verdict.NOT_RUN: 0, Verdict.PASS: 1, Verdict.WARN: 2, Verdict.FAIL: 3}


@dataclass(frozen=True)
class MergedItem:
    result: CheckResult  # the worst verdict, with its scenario's evidence
    scenario: str  # the scenario that decided it ("attestation" for attested items)
    per_scenario: tuple[dict[str, Any], ...]  # each scenario's verdict, summary, evidence


def result_from_report(check: dict[str, Any]) -> CheckResult:
    """A report's check back into a `CheckResult` (the inverse of report.model._check)."""
    evidence = check["evidence"]
    return CheckResult(
        id=check["id"],
        title=check["title"],
        area=check["area"],
        critical=check["critical"],
        verdict=Verdict(check["verdict"]),
        summary=check["summary"],
        why=check["why"],
        evidence=Evidence(
            kind=EvidenceKind(evidence["kind"]),
            numbers=evidence.get("numbers") or {},
            phase=evidence.get("phase"),
            examples=tuple(evidence.get("examples") or ()),
            margin=evidence.get("margin"),
            limit=evidence.get("limit") or "",
        ),
    )


def merge_items(
    reports: Sequence[dict[str, Any]], attested: Sequence[CheckResult] = ()
) -> list[MergedItem]:
    """Items in first-seen order; within an item, scenarios in suite order."""
    seen: dict[str, list[tuple[str, CheckResult, dict[str, Any]]]] = {}
    for report in reports:
        name = report["scenario"]["name"]
        for check in report["checks"]:
            seen.setdefault(check["id"], []).append((name, result_from_report(check), check))
    merged = []
    for entries in seen.values():
        worst = max(entries, key=lambda e: SEVERITY[e[1].verdict])  # first of the worst
        name, result, _ = worst
        summary = result.summary if len(entries) == 1 else f"[{name}] {result.summary}"
        per = tuple(
            {
                "scenario": scenario,
                "verdict": check["verdict"],
                "summary": check["summary"],
                "borderline": check.get("borderline", False),
                "evidence": check["evidence"],
            }
            for scenario, _, check in entries
        )
        merged.append(MergedItem(_with_summary(result, summary), name, per))
    for result in attested:
        entry = {
            "scenario": "attestation",
            "verdict": result.verdict.value,
            "summary": result.summary,
            "borderline": False,
            "evidence": {"kind": result.evidence.kind.value, "numbers": result.evidence.numbers},
        }
        merged.append(MergedItem(result, "attestation", (entry,)))
    return merged


def _with_summary(result: CheckResult, summary: str) -> CheckResult:
    return CheckResult(
        result.id, result.title, result.area, result.critical, result.verdict, summary,
        result.why, result.evidence,
    )  # fmt: skip


def suite_scorecard(
    reports: Sequence[dict[str, Any]],
    items: Sequence[MergedItem],
    *,
    fail_under: float,
    planned: int,
) -> Scorecard:
    """The merged items scored; incomplete unless all `planned` scenarios completed."""
    unfinished = [r["scenario"]["name"] for r in reports if r["status"] != "completed"]
    missing = planned - len(reports)
    stopped = []
    if unfinished:
        stopped.append("did not finish: " + ", ".join(unfinished))
    if missing > 0:
        stopped.append(f"{missing} of {planned} scenarios never ran")
    missed = tuple(
        f"{r['scenario']['name']}: {fault}"
        for r in reports
        for fault in r["verdict"].get("missed_faults") or ()
    )
    return score(
        [item.result for item in items],
        fail_under,
        complete=not stopped,
        stopped="; ".join(stopped),
        missed_faults=missed,
    )
