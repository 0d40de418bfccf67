"""The matrix's verdict: which checks each removal flipped, against what the table claims.

A check is **flipped** by a removal only when the hardened baseline of that exercise passed
it, the run without the defence failed it, and neither verdict is borderline. Anything
else is reported for what it is: `not_run` (on either side), `borderline`, `baseline`
(the baseline did not pass, so the removal proves nothing), `held` (still passed) or
`changed` (a warning). A row is right when its flips are exactly the checks the table
says the defence owns there; an owned check that was not flipped is **missing**, a flip
the table does not claim is **unexpected**. A run that did not complete decides nothing:
its rows carry the problem and the matrix is a lab error (exit 3), not a "no".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gaplab.exit_codes import ExitCode

CellState = Literal["flip", "held", "changed", "not_run", "borderline", "baseline"]


@dataclass(frozen=True)
class CheckVerdict:
    verdict: str  # pass, fail, warn, not_run
    borderline: bool = False


@dataclass(frozen=True)
class Played:
    """What one run of the matrix gave: its status and each check's verdict."""

    status: str  # completed, interrupted, failed
    checks: Mapping[str, CheckVerdict] = field(default_factory=dict)
    run_dir: str | None = None
    error: str | None = None

    @classmethod
    def from_report(cls, report: Mapping[str, Any], run_dir: str | None = None) -> Played:
        """From a report document (runs/<id>/report.json)."""
        checks = {
            c["id"]: CheckVerdict(c["verdict"], bool(c.get("borderline"))) for c in report["checks"]
        }
        return cls(str(report["status"]), checks, run_dir, report.get("error"))


@dataclass(frozen=True)
class Cell:
    check: str
    state: CellState
    baseline: str  # the baseline's verdict (`~` appended when borderline)
    removal: str
    owned: bool


@dataclass(frozen=True)
class Row:
    """One defence removed over one exercise."""

    defence: str
    exercise: str
    owned: frozenset[str]
    cells: tuple[Cell, ...] = ()
    problem: str | None = None  # a run that did not complete

    @property
    def flipped(self) -> frozenset[str]:
        return frozenset(c.check for c in self.cells if c.state == "flip")

    @property
    def held(self) -> frozenset[str]:
        """Checks the removal left passing: the "nothing else" of the claim."""
        return frozenset(c.check for c in self.cells if c.state == "held")

    @property
    def unexpected(self) -> frozenset[str]:
        return self.flipped - self.owned

    @property
    def missing(self) -> frozenset[str]:
        return self.owned - self.flipped

    @property
    def notes(self) -> list[str]:
        """Cells that are neither a flip nor a plain pass, in words."""
        return [
            f"{c.check}: {c.state} ({c.baseline} -> {c.removal})"
            for c in self.cells
            if c.state not in ("flip", "held")
        ]

    @property
    def right(self) -> bool:
        return self.problem is None and not self.unexpected and not self.missing


@dataclass(frozen=True)
class Matrix:
    rows: tuple[Row, ...]
    problems: tuple[str, ...] = ()  # runs that did not complete (baselines included)
    unexercised: tuple[str, ...] = ()  # defences no scenario of the table exercises

    @property
    def exit_code(self) -> ExitCode:
        if self.problems:
            return ExitCode.LAB_ERROR
        return ExitCode.READY if all(r.right for r in self.rows) else ExitCode.NOT_READY

    @property
    def checks(self) -> list[str]:
        """Every check any row judged, in first-seen order."""
        return list(dict.fromkeys(c.check for r in self.rows for c in r.cells))

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_code": int(self.exit_code),
            "right": self.exit_code is ExitCode.READY,
            "problems": list(self.problems),
            "unexercised": list(self.unexercised),
            "rows": [
                {
                    "defence": r.defence,
                    "exercise": r.exercise,
                    "owned": sorted(r.owned),
                    "flipped": sorted(r.flipped),
                    "unexpected": sorted(r.unexpected),
                    "missing": sorted(r.missing),
                    "held": sorted(r.held),
                    "problem": r.problem,
                    "cells": [
                        {
                            "check": c.check,
                            "state": c.state,
                            "baseline": c.baseline,
                            "removal": c.removal,
                            "owned": c.owned,
                        }
                        for c in r.cells
                    ],
                }
                for r in self.rows
            ],
        }


def _shown(verdict: CheckVerdict | None) -> str:
    if verdict is None:
        return "absent"
    return verdict.verdict + ("~" if verdict.borderline else "")


def judge_cell(
    check: str, baseline: CheckVerdict | None, removal: CheckVerdict | None, owned: bool
) -> Cell:
    state: CellState
    if baseline is None or removal is None or "not_run" in (baseline.verdict, removal.verdict):
        state = "not_run"
    elif baseline.borderline or removal.borderline:
        state = "borderline"
    elif baseline.verdict != "pass":
        state = "baseline"
    elif removal.verdict == "fail":
        state = "flip"
    elif removal.verdict == "pass":
        state = "held"
    else:
        state = "changed"
    return Cell(check, state, _shown(baseline), _shown(removal), owned)


def _incomplete(played: Played, what: str) -> str | None:
    if played.status == "completed":
        return None
    where = f" ({played.run_dir})" if played.run_dir else ""
    return f"{what}: run {played.status}{where}" + (f": {played.error}" if played.error else "")


def judge_row(
    defence: str, exercise: str, owned: frozenset[str], baseline: Played, removal: Played
) -> Row:
    problem = _incomplete(baseline, f"{exercise} baseline") or _incomplete(
        removal, f"{exercise} without {defence}"
    )
    if problem is not None:
        return Row(defence, exercise, owned, problem=problem)
    checks = list(dict.fromkeys([*baseline.checks, *removal.checks, *sorted(owned)]))
    cells = tuple(
        judge_cell(c, baseline.checks.get(c), removal.checks.get(c), c in owned) for c in checks
    )
    return Row(defence, exercise, owned, cells)


def judge(
    ownership: Mapping[str, Mapping[str, frozenset[str]]],
    defences: list[str],
    baselines: Mapping[str, Played],
    removals: Mapping[tuple[str, str], Played],
) -> Matrix:
    """Every row of the picked defences, in the table's order. `baselines[exercise]` and
    `removals[(defence, exercise)]` are the runs played."""
    rows = tuple(
        judge_row(d, e, frozenset(owned), baselines[e], removals[(d, e)])
        for d in defences
        for e, owned in ownership[d].items()
    )
    problems = [
        p
        for e, played in baselines.items()
        if (p := _incomplete(played, f"{e} baseline")) is not None
    ]
    problems += [
        p
        for (d, e), played in removals.items()
        if (p := _incomplete(played, f"{e} without {d}")) is not None
    ]
    unexercised = tuple(d for d in defences if not ownership[d])
    return Matrix(rows, tuple(problems), unexercised)
