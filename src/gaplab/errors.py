"""Errors the lab reports to users, each mapped to an exit code by the CLI.

`InputError` carries `file:line:column: field: message` locations so a broken scenario or
target file is never a traceback; `LabError` is an infrastructure failure (a target that did
not start, a busy port) with the detail a user needs to fix it. Anything else is a bug in
gaplab: the CLI exits with 3 and `write_internal_error_log` keeps the traceback.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path


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


INTERNAL_ERROR_LOG = "lab-error.log"


def write_internal_error_log(exc: BaseException, run_dir: Path | None) -> Path | None:
    """Write the traceback of a bug in gaplab to `run_dir/lab-error.log` when that run
    folder exists, else to a new temporary file; the path written, or None if no file
    could be written (the caller then prints the traceback)."""
    text = "".join(traceback.format_exception(exc))
    try:
        if run_dir is not None and run_dir.is_dir():
            path = run_dir / INTERNAL_ERROR_LOG
            path.write_text(text, encoding="utf-8")
            return path
        handle, name = tempfile.mkstemp(prefix="gaplab-error-", suffix=".log")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        return Path(name)
    except OSError:
        return None
