"""`lab runs` and `lab runs prune`, through the real `lab` command line, on run folders laid
out as runs leave them: finished with a report, killed without one, plus folders and files
that are not runs and must never be touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LAB = [sys.executable, "-m", "gaplab"]
DAY = 86_400.0
NOW = 1_780_000_000.0


def _run(runs: Path, name: str, age_days: float, report: dict[str, object] | None) -> Path:
    path = runs / name
    path.mkdir(parents=True)
    (path / "scenario.json").write_text(json.dumps({"name": name.split("-")[0]}))
    (path / "target.json").write_text(json.dumps({"label": "demo:naive"}))
    (path / "events.jsonl").write_text('{"kind": "run_started"}\n' * 100)
    if report is not None:
        (path / "report.json").write_text(json.dumps(report))
    for item in path.iterdir():
        os.utime(item, (NOW - age_days * DAY, NOW - age_days * DAY))
    return path


def _report(status: str, ready: bool, score: float | None, complete: bool | None) -> dict:
    verdict: dict[str, object] = {"ready": ready, "score": score}
    if complete is not None:
        verdict["complete"] = complete
    return {
        "status": status,
        "scenario": {"name": "outage"},
        "target": "demo:x",
        "verdict": verdict,
    }


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    _run(runs, "outage-old", 9, _report("completed", False, 40.0, None))  # before `complete`
    _run(runs, "hang-killed", 5, None)
    _run(runs, "outage-stopped", 3, _report("interrupted", False, None, False))
    _run(runs, "outage-new", 1, _report("completed", True, 100.0, True))
    (runs / "notes").mkdir()
    (runs / "notes" / "todo.txt").write_text("not a run")
    (runs / "README").write_text("not a run either")
    (runs / "linked").symlink_to(runs / "outage-new")
    return runs


def _lab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LAB, *args], capture_output=True, text=True, timeout=60)


def test_runs_lists_newest_first_with_verdicts(runs: Path) -> None:
    done = _lab("runs", "--runs-dir", str(runs))
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == [
        "started",
        "run",
        "scenario",
        "target",
        "verdict",
        "score",
        "completed",
    ]
    assert [row.split()[2] for row in rows] == [
        "outage-new",
        "outage-stopped",
        "hang-killed",
        "outage-old",
    ]
    assert "READY" in rows[0] and "100%" in rows[0] and rows[0].endswith("yes")
    assert "INCOMPLETE" in rows[1] and rows[1].endswith("no: interrupted")
    assert "hang" in rows[2] and rows[2].endswith("no: no report")
    assert "NOT READY" in rows[3] and "40%" in rows[3] and rows[3].endswith("yes")


def test_prune_dry_run_removes_nothing(runs: Path) -> None:
    before = sorted(p.name for p in runs.iterdir())
    done = _lab("runs", "prune", "--keep", "1", "--dry-run", "--runs-dir", str(runs))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("would remove") == 3
    assert "kept 1 of 4 runs" in done.stdout
    assert sorted(p.name for p in runs.iterdir()) == before


def test_prune_keeps_the_newest_and_touches_nothing_else(runs: Path) -> None:
    done = _lab("runs", "--runs-dir", str(runs), "prune", "--keep", "2")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in runs.iterdir()) == [
        "README",
        "linked",
        "notes",
        "outage-new",
        "outage-stopped",
    ]
    removed = [line for line in done.stdout.splitlines() if line.startswith("removed")]
    assert [line.split()[1] for line in removed] == [
        str(runs / "hang-killed"),
        str(runs / "outage-old"),
    ]
    assert "kept 2 of 4 runs" in done.stdout
    again = _lab("runs", "prune", "--keep", "0", "--runs-dir", str(runs))
    assert again.returncode == 0
    assert sorted(p.name for p in runs.iterdir()) == ["README", "linked", "notes"]
    assert (runs / "notes" / "todo.txt").read_text() == "not a run"


def test_bad_keep_is_exit_2_and_a_missing_folder_has_no_runs(tmp_path: Path) -> None:
    assert _lab("runs", "prune", "--keep", "-1").returncode == 2
    done = _lab("runs", "--runs-dir", str(tmp_path / "none"))
    assert done.returncode == 0 and "no runs in" in done.stdout


def _suite(runs: Path, name: str, age_days: float, ready: bool) -> Path:
    """A suite's folder as `lab run SUITE` leaves it: its scenarios' runs inside, and the
    combined report."""
    path = runs / name
    _run(path, "outage-inside", age_days, _report("completed", ready, 90.0, True))
    (path / "report.json").write_text(
        json.dumps(
            {
                "kind": "suite",
                "suite": "readiness",
                "target": "demo:hardened",
                "status": "completed",
                "items": [],
                "verdict": {"ready": ready, "complete": True, "score": 96.0},
            }
        )
    )
    os.utime(path / "report.json", (NOW - age_days * DAY, NOW - age_days * DAY))
    return path


def test_a_suite_is_one_row_and_is_pruned_whole(runs: Path) -> None:
    _suite(runs, "readiness-mid", 2, ready=True)
    done = _lab("runs", "--runs-dir", str(runs))
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()[1:]
    assert [row.split()[2] for row in rows] == [
        "outage-new",
        "readiness-mid",
        "outage-stopped",
        "hang-killed",
        "outage-old",
    ]
    assert "suite readiness" in rows[1] and "READY" in rows[1] and "96%" in rows[1]
    pruned = _lab("runs", "prune", "--keep", "1", "--runs-dir", str(runs))
    assert pruned.returncode == 0, pruned.stderr
    assert "kept 1 of 5 runs" in pruned.stdout
    assert not (runs / "readiness-mid").exists()  # with the runs inside it
    assert sorted(p.name for p in runs.iterdir()) == ["README", "linked", "notes", "outage-new"]
