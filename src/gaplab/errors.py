"""Errors the lab reports to users, each mapped to an exit code by the CLI.

`InputError` carries `file:line:column: field: message` locations so a broken scenario or
target file is never a traceback; `LabError` is an infrastructure failure (a target that did
not start, a busy port) with the detail a user needs to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the file allows."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class InputError(Exception):
    """A user-supplied file or argument is invalid (exit code 2)."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="", line=None, column=None, field="", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = problems
        super().__init__("\n".join(str(p).removeprefix(": ") for p in problems))


@dataclass
class LabError(Exception):
    """The lab could not do its job (exit code 3): say why, with the evidence."""

    message: str
    details: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join("  " + line for line in self.details)
