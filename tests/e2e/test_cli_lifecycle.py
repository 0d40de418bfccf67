"""`lab` as a user runs it, in a subprocess: exit codes, partial reports on SIGINT/SIGTERM,
every process and port the lab opened gone afterwards, clear errors for bad input."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import short_scenario

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

LAB = [sys.executable, "-m", "gaplab"]


def _port_open(url: str) -> bool:
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, int(port))) == 0


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_everything_and_writes_the_partial_report(
    tmp_path: Path, sig: signal.Signals
) -> None:
    path = short_scenario(
        tmp_path, "outage", "provider: {error: 503}", "[resilience.fallback, resilience.contained]"
    )
    report = tmp_path / "report.json"
    process = subprocess.Popen(
        [
            *LAB,
            "run",
            str(path),
            "--target",
            "demo:hardened",
            "--json",
            str(report),
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    output = []
    for line in process.stdout:  # wait until the outage phase has begun
        output.append(line)
        if "phase 2 fault" in line:
            break
    else:
        pytest.fail("the run never reached phase 2:\n" + "".join(output))
    time.sleep(1.0)
    process.send_signal(sig)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 130, "".join(output) + rest

    document = json.loads(report.read_text())
    assert document["status"] == "interrupted" and document["partial"] is True
    # Never READY without evidence: the phases the checks need did not end.
    assert document["verdict"]["ready"] is False and document["verdict"]["complete"] is False
    assert {c["verdict"] for c in document["checks"]} == {"not_run"}
    assert all(c["summary"].endswith("before phase fault ended") for c in document["checks"])
    assert document["verdict"]["headline"].startswith("INCOMPLETE")
    run_dir = tmp_path / "runs" / document["run_id"]
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert events[-1]["kind"] == "run_finished" and events[-1]["status"] == "interrupted"
    assert sum(1 for e in events if e["kind"] == "user_request") > 20
    started = next(e for e in events if e["kind"] == "run_started")
    # Every port the lab opened is closed, and the target process is gone.
    assert not _port_open(started["provider_base_url"])
    assert not _port_open(started["target_base_url"])
    target_port = started["target_base_url"].rsplit(":", 1)[1]
    assert _processes_mentioning(f"--port {target_port}") == []
    assert "partial report" in rest


def test_target_that_does_not_start_says_why(tmp_path: Path) -> None:
    target = tmp_path / "broken.yaml"
    target.write_text(
        "name: broken\n"
        "start:\n"
        f"  command: [{sys.executable!r}, -c, \"print('missing setting DB_URL'); exit(4)\"]\n"
        "  ready: {http: GET /health, within: 10s}\n"
        "request: {url: 'http://127.0.0.1:{port}/chat', json: {q: '{input}'}}\n"
    )
    path = short_scenario(tmp_path, "outage", "provider: {error: 503}", "[resilience.fallback]")
    done = subprocess.run(
        [*LAB, "run", str(path), "--target", str(target), "--runs-dir", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "exited with code 4 before it was ready" in done.stdout
    assert "missing setting DB_URL" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_broken_scenario_is_exit_2_with_location(tmp_path: Path) -> None:
    path = short_scenario(tmp_path, "outage", "provider: {eror: 503}", "[resilience.fallback]")
    for command in (["validate", str(path)], ["run", str(path)]):
        done = subprocess.run([*LAB, *command], capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, done.stderr
        assert f"{path}:11:25: phases[1].faults[0].provider.eror: unknown field" in done.stderr
        assert "Traceback" not in done.stderr


def test_report_path_that_is_a_directory_is_exit_2_before_the_run(tmp_path: Path) -> None:
    path = short_scenario(tmp_path, "outage", "provider: {error: 503}", "[resilience.fallback]")
    for option in ("--json", "--junit"):
        done = subprocess.run(
            [*LAB, "run", str(path), option, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
        )
        assert done.returncode == 2 and "is a directory" in done.stderr, done.stderr
        assert not (tmp_path / "runs").exists()  # refused before anything started


def test_unknown_demo_option_is_exit_2(tmp_path: Path) -> None:
    path = short_scenario(tmp_path, "outage", "provider: {error: 503}", "[resilience.fallback]")
    done = subprocess.run(
        [*LAB, "run", str(path), "--target", "demo:hardened?without=moat"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "moat" in done.stderr


def test_lab_report_rebuilds_the_verdicts(tmp_path: Path) -> None:
    path = short_scenario(
        tmp_path,
        "outage",
        "provider: {error: 503}",
        "[resilience.fallback, resilience.circuit_breaker]",
    )
    runs = tmp_path / "runs"
    first = subprocess.run(
        [
            *LAB,
            "run",
            str(path),
            "--target",
            "demo:naive",
            "--runs-dir",
            str(runs),
            "--json",
            str(tmp_path / "a.json"),
            "--junit",
            str(tmp_path / "a.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ},
    )
    assert first.returncode == 1, first.stdout + first.stderr
    # A finished run says nothing on stderr: no traceback, no asyncio complaint about a
    # child that exited after the loop closed ("Loop ... that handles pid N is closed").
    assert first.stderr.strip() == "", first.stderr
    original = json.loads((tmp_path / "a.json").read_text())
    run_dir = runs / original["run_id"]
    again = subprocess.run(
        [*LAB, "report", str(run_dir), "--json", str(tmp_path / "b.json")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert again.returncode == 1
    rebuilt = json.loads((tmp_path / "b.json").read_text())
    assert [c["verdict"] for c in rebuilt["checks"]] == [c["verdict"] for c in original["checks"]]
    assert rebuilt["totals"]["outcomes"] == original["totals"]["outcomes"]
    assert "<testcase" in (tmp_path / "a.xml").read_text()
