"""The end of a run in the TUI: write the same reports as headless and pick the exit code.

Same rules as `gaplab.headless.run_headless`: `run_dir/report.json` always, `--json` and
`--junit` when asked; failed -> 3, interrupted -> 130, else ready -> 0, not ready -> 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gaplab.engine.run import LabRun, RunResult
from gaplab.exit_codes import ExitCode
from gaplab.headless import exit_code_for, report_for, write_reports


@dataclass(frozen=True)
class Finished:
    report: dict[str, Any]
    exit_code: ExitCode
    report_path: Path
    problem: str | None = None  # a report file that could not be written


def finish_run(
    run: LabRun, result: RunResult, *, json_path: Path | None, junit_path: Path | None
) -> Finished:
    code = exit_code_for(result)
    try:
        report, report_path = write_reports(run, result, json_path=json_path, junit_path=junit_path)
    except OSError as exc:
        # A bad --json path must not lose the scorecard on screen; it is a lab error.
        failed = code if code is ExitCode.INTERRUPTED else ExitCode.LAB_ERROR
        return Finished(
            report_for(run, result),
            failed,
            result.run_dir / "report.json",
            f"writing a report: {exc}",
        )
    return Finished(report, code, report_path)
