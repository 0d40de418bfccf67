"""The Locust processes of a run end with it, whatever ends it: a normal end, SIGTERM, or
the lab killed outright (its channel closes, the master stops its workers); and a worker
that dies mid-run is reported and leaves the run incomplete (exit 3), unless the scenario
allows it (`load.locust.allow_lost_workers`): then its users move to the other workers and
the run is judged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gaplab.engine.events import LogMessage
from gaplab.engine.journal import read_journal
from gaplab.engine.record import RunRecord
from gaplab.target.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SCENARIO = """\
version: 1
name: locust_life
title: Locust lifecycle
target: demo:naive
seed: 7
load: {users: 4, think: 200ms}
phases:
  - {name: a, for: 6s}
  - {name: b, for: 6s}
checks: [resilience.fallback]
"""


def _start(tmp_path: Path, text: str = SCENARIO) -> subprocess.Popen[str]:
    scenario = tmp_path / "life.yaml"
    scenario.write_text(text)
    command = [sys.executable, "-m", "gaplab", "run", str(scenario), "--load", "locust"]
    return subprocess.Popen(
        [*command, "--locust-workers", "2", "--runs-dir", str(tmp_path / "runs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _locust_processes(lab: subprocess.Popen[str], want: int) -> list[psutil.Process]:
    """The run's Locust master and workers (the lab's children), once all are up."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = [
            p
            for p in psutil.Process(lab.pid).children(recursive=True)
            if "gaplab.locust_load.main" in " ".join(p.cmdline())
        ]
        if len(found) >= want:
            return found
        time.sleep(0.2)
    raise AssertionError(f"only {len(found)} Locust processes came up")


def _gone(processes: list[psutil.Process], within: float) -> list[psutil.Process]:
    """Those of `processes` still running after `within` seconds (an exited process whose
    parent died stays a zombie until PID 1 reaps it: it runs nothing, it is gone)."""
    deadline = time.monotonic() + within
    while True:
        alive = [p for p in processes if _running(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _until(lab: subprocess.Popen[str], prefix: str) -> str:
    """The lab's output up to the line that starts with `prefix`."""
    assert lab.stdout is not None
    seen = []
    for line in lab.stdout:
        seen.append(line)
        if line.startswith(prefix):
            return "".join(seen)
    raise AssertionError("".join(seen))


def test_a_worker_that_dies_mid_run_is_reported_and_the_run_is_incomplete(
    tmp_path: Path,
) -> None:
    lab = _start(tmp_path)
    processes = _locust_processes(lab, 3)
    worker = next(p for p in processes if " worker " in f" {' '.join(p.cmdline())} ")
    before = _until(lab, "phase 1 a")  # the timeline is running
    time.sleep(1)
    os.kill(worker.pid, signal.SIGKILL)
    out, _ = lab.communicate(timeout=90)
    out = before + out
    assert lab.returncode == 3, out
    assert f"local Locust worker process 0 (pid {worker.pid}) exited with code -9" in out or (
        f"local Locust worker process 1 (pid {worker.pid}) exited with code -9" in out
    ), out
    assert "in phase a: its users stopped, so the run is incomplete" in out, out
    (report,) = (tmp_path / "runs").glob("*/report.json")
    verdict = json.loads(report.read_text())["verdict"]
    assert verdict["complete"] is False and verdict["ready"] is False
    assert not _gone(processes, 15)


def test_a_worker_that_dies_before_the_run_is_named_at_once(tmp_path: Path) -> None:
    lab = _start(tmp_path)
    processes = _locust_processes(lab, 3)
    worker = next(p for p in processes if " worker " in f" {' '.join(p.cmdline())} ")
    os.kill(worker.pid, signal.SIGKILL)
    started = time.monotonic()
    out, _ = lab.communicate(timeout=90)
    assert lab.returncode == 3, out
    assert f"local workers that exited: pid {worker.pid} (exit code -9)" in out, out
    assert time.monotonic() - started < 30  # not the minute a slow start may take
    assert not _gone(processes, 15)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_locust_process_outlives_the_lab(tmp_path: Path, sig: signal.Signals) -> None:
    lab = _start(tmp_path)
    processes = _locust_processes(lab, 3)
    time.sleep(2)
    lab.send_signal(sig)
    lab.communicate(timeout=60)
    # SIGKILL: nobody tells them; the master sees its channel close and stops the workers.
    alive = _gone(processes, 20)
    described = [(p.pid, p.status()) for p in alive]
    for process in alive:  # do not leave them behind for the next test
        process.kill()
    assert not alive, described


def test_a_worker_from_another_machine_joins_with_lab_locust_worker(tmp_path: Path) -> None:
    """`--expect-workers 2` with one local worker: the run waits for the second, which
    `lab locust-worker --master HOST:PORT` brings (here from the same machine, as another
    machine would), and both send users; the joined worker ends with the run."""
    scenario = tmp_path / "life.yaml"
    scenario.write_text(SCENARIO)
    port = free_port()
    command = [sys.executable, "-m", "gaplab", "run", str(scenario), "--load", "locust"]
    lab = subprocess.Popen(
        [
            *command,
            "--locust-workers",
            "1",
            "--expect-workers",
            "2",
            "--locust-port",
            str(port),
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _locust_processes(lab, 2)  # the master and the local worker are up
    joined = subprocess.Popen(
        [sys.executable, "-m", "gaplab", "locust-worker", "--master", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out, _ = lab.communicate(timeout=90)
    assert lab.returncode in (0, 1), out  # a finished run (the naive demo is not ready)
    assert joined.wait(timeout=20) == 0
    (journal,) = (tmp_path / "runs").glob("*/events.jsonl")
    events = list(read_journal(journal))
    record = RunRecord.from_events(events)
    users = {r.user for r in record.requests}
    assert users == {"user-0000", "user-0001", "user-0002", "user-0003"}, users
    # Each worker's share, in the journal (and the TUI's event feed).
    (shares,) = [e.message for e in events if isinstance(e, LogMessage) and "Locust:" in e.message]
    assert "worker 0: " in shares and "worker 1: " in shares, shares
    assert f"Locust: {len(record.requests):,} requests" in shares, shares


ALLOWING = SCENARIO.replace(
    "load: {users: 4, think: 200ms}",
    "load: {users: 4, think: 200ms, locust: {allow_lost_workers: 1}}",
).replace("{name: a, for: 6s}", "{name: a, for: 10s}")


def test_a_worker_lost_within_the_allowance_is_reported_and_the_run_is_judged(
    tmp_path: Path,
) -> None:
    """`load.locust.allow_lost_workers: 1`: a local worker killed in phase a is reported
    (console, journal, report), its users move to the other worker, and the run goes on to
    its verdict."""
    lab = _start(tmp_path, ALLOWING)
    processes = _locust_processes(lab, 3)
    worker = next(p for p in processes if " worker " in f" {' '.join(p.cmdline())} ")
    before = _until(lab, "phase 1 a")
    time.sleep(1)
    os.kill(worker.pid, signal.SIGKILL)
    out, _ = lab.communicate(timeout=90)
    out = before + out
    assert lab.returncode in (0, 1), out  # judged (the naive demo is not ready)
    (run_dir,) = (tmp_path / "runs").iterdir()
    report = json.loads((run_dir / "report.json").read_text())
    assert report["verdict"]["complete"] is True, report["verdict"]
    part = report["load_workers"]
    assert part["allowed_lost"] == 1
    (lost,) = part["lost"]
    assert lost["pid"] == worker.pid and lost["phase"] == "a", lost
    assert lost["reason"] == "exited with code -9" and lost["allowed"] and lost["moved"]
    assert lost["users"] == 2 and lost["remaining"] == 1, lost
    story = (
        f"worker {lost['worker']} (pid {worker.pid} on "
        f"{lost['host']}) lost at {lost['t_s']:.1f} s in phase a (exited with code -9); "
        "its 2 users moved to the 1 remaining worker"
    )
    assert story in out, out  # the live console's log and the scorecard footer
    states = {w["worker"]: w for w in part["workers"]}
    assert states[lost["worker"]]["state"] == "lost"
    (kept,) = [w for w in states.values() if w["state"] != "lost"]
    assert kept["users"] == 4, kept  # the lost worker's 2 users run there now
    # The master moved them at once (Locust alone would wait for the next phase edge):
    # users the remaining worker had not run before sent requests in phase a already.
    events = list(read_journal(run_dir / "events.jsonl"))
    record = RunRecord.from_events(events)
    moved_a = {
        r.user
        for r in record.requests
        if r.phase == "a" and r.endpoint == "ai" and int(r.user.split("-")[1]) >= 4
    }
    assert moved_a, "no user moved before phase b"
    # Phase b was sent by the remaining worker alone.
    users_b = {r.user for r in record.requests if r.phase == "b" and r.endpoint == "ai"}
    assert len(users_b) == 4, users_b
    step = 2  # worker w of 2 takes user indices w, w + 2, ...
    assert all(int(u.split("-")[1]) % step == kept["worker"] for u in users_b), users_b
    # `lab report` rebuilds the same part from the journal.
    again = tmp_path / "again.json"
    rebuilt = subprocess.run(
        [sys.executable, "-m", "gaplab", "report", str(run_dir), "--json", str(again)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(again.read_text())["load_workers"] == part, rebuilt.stdout
    assert not _gone(processes, 15)
