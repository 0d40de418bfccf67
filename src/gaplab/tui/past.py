"""A past run for the scorecard (`lab report RUN --tui`, or opened from the past runs):
its `report.json`, or the report rebuilt from its journal; a suite's folder (its
report.json is the combined report, `"kind": "suite"`) opens as the merged scorecard."""

from __future__ import annotations

from pathlib import Path

from gaplab.checks.scoring import DEFAULT_FAIL_UNDER
from gaplab.errors import INTERNAL_ERROR_LOG
from gaplab.report.compare import load_run
from gaplab.suite.report import read_suite_report
from gaplab.tui.screens.scorecard import ScoredRun


def scored_from_folder(run_dir: Path, *, fail_under: float = DEFAULT_FAIL_UNDER) -> ScoredRun:
    """Raises `InputError` when `run_dir` is not a run folder."""
    suite = read_suite_report(run_dir)
    if suite is not None:
        from gaplab.tui.screens.suite_scorecard import suite_scored

        folder = run_dir if run_dir.is_dir() else run_dir.parent
        return suite_scored(suite, folder / "report.json", folder)
    report = load_run(run_dir, fail_under=fail_under)
    folder = run_dir if run_dir.is_dir() else run_dir.parent
    report_path = folder / "report.json"
    error_log = folder / INTERNAL_ERROR_LOG
    target_log = folder / "target.log"
    return ScoredRun(
        report,
        report_path if report_path.is_file() else None,
        folder,
        None,
        error_log if error_log.is_file() else None,
        target_log if target_log.is_file() else None,
    )
