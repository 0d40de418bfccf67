"""`lab runs`: the past runs in a runs folder, and `lab runs prune --keep N` to bound it.

A run folder is a directory directly under the runs folder holding `events.jsonl` or
`scenario.json` (what every run writes first), a suite's folder one holding a suite's
combined `report.json` (its scenarios' run folders inside it, listed and removed with it);
nothing else is listed or ever removed, and symbolic links are not followed. A run's time
is when it started: the time `scenario.json` was written (the journal's, without it). What
is shown comes from `report.json`; a run without one (the lab was killed) shows how its
journal ends.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from gaplab.errors import LabError

MARKERS = ("events.jsonl", "scenario.json")
_F = TypeVar("_F", bound=Callable[..., Any])
_TAIL = 64 * 1024  # bytes read from the end of a journal to find its last event


@dataclass(frozen=True)
class PastRun:
    path: Path
    started: float  # seconds since the epoch
    scenario: str
    target: str
    verdict: str  # READY, NOT READY, INCOMPLETE, or "-" without a report
    score: float | None
    status: str  # completed, interrupted, failed, or "no report" (the lab was killed)

    @property
    def completed(self) -> bool:
        return self.status == "completed"


def is_run_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and any((path / m).is_file() for m in MARKERS)


def find_runs(runs_dir: Path) -> list[PastRun]:
    """The run folders under `runs_dir`, newest first."""
    if not runs_dir.is_dir():
        return []
    runs = [_read_run(path) for path in runs_dir.iterdir() if is_run_folder(path)]
    return sorted(runs, key=lambda run: (run.started, run.path.name), reverse=True)


def find_runs_and_suites(runs_dir: Path) -> list[PastRun]:
    """The run folders and the suite folders (`lab run SUITE`: its scenarios' runs inside,
    one row for the whole suite) under `runs_dir`, newest first."""
    from gaplab.suite.report import find_suite_runs  # the suite's report imports PastRun

    found = [*find_runs(runs_dir), *find_suite_runs(runs_dir)]
    return sorted(found, key=lambda run: (run.started, run.path.name), reverse=True)


def _read_run(path: Path) -> PastRun:
    marker = next(path / m for m in reversed(MARKERS) if (path / m).is_file())
    started = marker.stat().st_mtime
    report = _json(path / "report.json")
    inputs = _json(path / "scenario.json")
    target = _json(path / "target.json")
    if report is None:
        return PastRun(
            path,
            started,
            str(inputs.get("name", "?")) if inputs else "?",
            str(target.get("label", "?")) if target else "?",
            "-",
            None,
            _journal_end(path / "events.jsonl"),
        )
    verdict = report.get("verdict", {})
    if verdict.get("complete") is False:
        word = "INCOMPLETE"
    else:
        word = "READY" if verdict.get("ready") else "NOT READY"
    score = verdict.get("score")
    return PastRun(
        path,
        started,
        str((report.get("scenario") or {}).get("name", "?")),
        str(report.get("target", "?")),
        word,
        float(score) if isinstance(score, int | float) else None,
        str(report.get("status", "?")),
    )


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _journal_end(journal: Path) -> str:
    """`interrupted`... from a journal's `run_finished` event; `no report` without one."""
    try:
        with journal.open("rb") as file:
            file.seek(max(0, journal.stat().st_size - _TAIL))
            lines = file.read().splitlines()
    except OSError:
        return "no report"
    for line in reversed(lines):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("kind") == "run_finished":
            return f"{event.get('status', '?')} (no report)"
        break
    return "no report"


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _runs_dir_option(default: Path | None) -> Callable[[_F], _F]:
    return click.option(
        "--runs-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=default,
        help="the folder `lab run` writes runs to (default: runs)",
    )


@click.group(name="runs", invoke_without_command=True)
@_runs_dir_option(Path("runs"))
@click.pass_context
def runs_group(ctx: click.Context, runs_dir: Path) -> None:
    """List past runs and suites, newest first: when, scenario, target, verdict, score,
    completed."""
    ctx.obj = runs_dir
    if ctx.invoked_subcommand is not None:
        return
    runs = find_runs_and_suites(runs_dir)
    if not runs:
        click.echo(f"no runs in {runs_dir}")
        return
    rows = [("started", "run", "scenario", "target", "verdict", "score", "completed")]
    for run in runs:
        score = "-" if run.score is None else f"{run.score:.0f}%"
        completed = "yes" if run.completed else f"no: {run.status}"
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started))
        rows.append((when, run.path.name, run.scenario, run.target, run.verdict, score, completed))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        click.echo("  ".join([*cells, row[-1]]))


@runs_group.command(name="prune")
@click.option("--keep", type=click.IntRange(min=0), required=True, help="newest runs to keep")
@click.option("--dry-run", is_flag=True, help="say what would be removed, remove nothing")
@_runs_dir_option(None)
@click.pass_obj
def prune(group_runs_dir: Path, keep: int, dry_run: bool, runs_dir: Path | None) -> None:
    """Remove all but the KEEP newest run folders (only folders that are gaplab runs; a
    suite's folder counts as one, with its scenarios' runs inside)."""
    runs_dir = runs_dir or group_runs_dir
    runs = find_runs_and_suites(runs_dir)
    doomed = runs[keep:]
    freed = 0
    for run in doomed:
        size = _size(run.path)
        freed += size
        if dry_run:
            click.echo(f"would remove {run.path} ({_mb(size)})")
            continue
        try:
            shutil.rmtree(run.path)
        except OSError as exc:
            raise LabError(f"cannot remove {run.path}: {exc.strerror or exc}") from None
        click.echo(f"removed {run.path} ({_mb(size)})")
    verb = "would free" if dry_run else "freed"
    click.echo(
        f"kept {len(runs) - len(doomed)} of {len(runs)} runs in {runs_dir}; {verb} {_mb(freed)}"
    )


def _mb(count: int) -> str:
    return f"{count / 1e6:.1f} MB"
