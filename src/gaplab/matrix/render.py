"""The matrix as a table, on the console (rich) and in Markdown (`--markdown FILE`): one row
per defence and exercise, the checks its removal flipped, what was unexpected or missing
against the ownership table, and the exercise's other checks, which it left passing.
Both come from the same rows (`table_rows`), so they cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from gaplab.demo.ownership import EXERCISES
from gaplab.exit_codes import ExitCode
from gaplab.matrix.outcome import Matrix, Row

COLUMNS = (
    "defence", "exercise (interface)", "flipped", "unexpected", "missing", "still passed",
    "result",
)  # fmt: skip
NONE = "—"


def _checks(checks: frozenset[str]) -> str:
    return ", ".join(sorted(checks)) or NONE


def _result(row: Row) -> str:
    if row.problem is not None:
        return "no verdict"
    return "as owned" if row.right else "WRONG"


def table_rows(matrix: Matrix) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for row in matrix.rows:
        exercise = EXERCISES.get(row.exercise)
        interface = f" ({exercise.interface})" if exercise is not None else ""
        rows.append(
            (
                row.defence,
                row.exercise + interface,
                _checks(row.flipped),
                _checks(row.unexpected),
                _checks(row.missing),
                _checks(row.held),
                _result(row),
            )
        )
    return rows


def headline(matrix: Matrix) -> str:
    code = matrix.exit_code
    wrong = [r for r in matrix.rows if not r.right and r.problem is None]
    if code is ExitCode.READY:
        return f"every removal flips exactly the checks it owns ({len(matrix.rows)} rows)"
    if code is ExitCode.LAB_ERROR:
        return f"no verdict: {len(matrix.problems)} run(s) did not complete"
    return f"{len(wrong)} of {len(matrix.rows)} rows differ from the ownership table"


def findings(matrix: Matrix) -> list[str]:
    """One line per unexpected or missing flip, per run problem and per note."""
    lines = [f"run problem: {p}" for p in matrix.problems]
    lines += [f"not exercised by any scenario: {d}" for d in matrix.unexercised]
    for row in matrix.rows:
        where = f"{row.exercise} without {row.defence}"
        lines += [f"unexpected flip: {where}: {c}" for c in sorted(row.unexpected)]
        for check in sorted(row.missing):
            cell = next((c for c in row.cells if c.check == check), None)
            how = f" ({cell.state}: {cell.baseline} -> {cell.removal})" if cell else ""
            lines.append(f"missing flip: {where}: {check}{how}")
        lines += [f"note: {where}: {note}" for note in row.notes if row.problem is None]
    return lines


def print_matrix(console: Console, matrix: Matrix) -> None:
    table = Table(title="defence matrix: demo:hardened without each defence", show_lines=False)
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for values, row in zip(table_rows(matrix), matrix.rows, strict=True):
        style = None if row.right else ("yellow" if row.problem else "red")
        table.add_row(*values, style=style)
    console.print(table)
    for line in findings(matrix):
        console.print(line, markup=False, highlight=False)
    colour = "green" if matrix.exit_code is ExitCode.READY else "red"
    console.print(f"[bold {colour}]{headline(matrix)}[/]")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(matrix: Matrix, *, command: str | None = None) -> str:
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(_cell(v) for v in values) + " |" for values in table_rows(matrix)),
        "",
        headline(matrix) + ".",
    ]
    found = findings(matrix)
    if found:
        lines += ["", *(f"- {_cell(line)}" for line in found)]
    if command:
        lines += ["", f"`{command}`"]
    return "\n".join(lines) + "\n"


def write_markdown(matrix: Matrix, path: Path, *, command: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(matrix, command=command), encoding="utf-8")
