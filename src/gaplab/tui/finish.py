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
from gaplab.headless import report_for
from gaplab.report.writers import write_json, write_junit


@dataclass(frozen=True)
class Finished:
    report: dict[str, Any]
    exit_code: ExitCode
    report_path: Path
    problem: str | None = None  # a report file that could not be written


def exit_code_for(result: RunResult) -> ExitCode:
    if result.status == "failed":
        return ExitCode.LAB_ERROR
    if result.status == "interrupted":
        return ExitCode.INTERRUPTED
    return ExitCode.READY if result.scorecard.ready else ExitCode.NOT_READY


def finish_run(
    run: LabRun, result: RunResult, *, json_path: Path | None, junit_path: Path | None
) -> Finished:
    report = report_for(run, result)
    report_path = result.run_dir / "report.json"
    code = exit_code_for(result)
    try:
        write_json(report, report_path)
        if json_path is not None:
            write_json(report, json_path)
        if junit_path is not None:
            write_junit(report, junit_path)
    except OSError as exc:
        # A bad --json path must not lose the scorecard on screen; it is a lab error.
        failed = code if code is ExitCode.INTERRUPTED else ExitCode.LAB_ERROR
        return Finished(report, failed, report_path, f"writing a report: {exc}")
    return Finished(report, code, report_path)
