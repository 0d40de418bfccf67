"""The lab knows when it, not the target, is the problem: a real overload of the lab ends as
exit 3 with the figure that proved it; a target that is not running is exit 3 with its
address, never a target that scores 0 %; open arrivals past `max_in_flight` are dropped
and counted per phase through the whole engine."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gaplab.headless import report_for

from .conftest import run_lab

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

LAB = [sys.executable, "-m", "gaplab"]

CROWD = """\
version: 1
name: crowd
title: ten thousand closed users on a small machine
seed: 3
load: {users: 10000, think: 0s, patience: 30s}
phases:
  - {name: baseline, for: 30s}
  - {name: outage, for: 10s, faults: [{provider: {error: 503}}]}
checks: [resilience.fallback]
"""

UNMANAGED = """\
name: not-started
request: {{url: "http://127.0.0.1:{port}/chat", json: {{message: "{{input}}"}}}}
"""

SMALL = """\
version: 1
name: small
title: a few users
seed: 3
load: {{{load}}}
phases:
  - {{name: baseline, for: 3s}}
  - {{name: outage, for: 3s, faults: [{{provider: {{error: 503}}}}]}}
checks: [resilience.fallback]
"""


def _lab_run(tmp_path: Path, scenario: str, target: str, timeout: float) -> tuple[int, str, float]:
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario)
    started = time.monotonic()
    done = subprocess.run(
        [*LAB, "run", str(path), "--target", target, "--runs-dir", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def _report(tmp_path: Path) -> dict[str, object]:
    (report,) = (tmp_path / "runs").glob("*/report.json")
    document: dict[str, object] = json.loads(report.read_text())
    return document


def test_ten_thousand_closed_users_overload_the_lab_and_say_so(tmp_path: Path) -> None:
    code, output, seconds = _lab_run(tmp_path, CROWD, "demo:naive", timeout=110)
    assert code == 3, output
    found = re.search(
        r"the lab is overloaded: event-loop lag p99 ([\d,]+) ms over the last 5 s "
        r"\(limit 250 ms\); lower users or arrival rate",
        output,
    )
    assert found, output
    assert int(found.group(1).replace(",", "")) > 250
    assert seconds < 60  # judged after a 5 s window, long before the 40 s timeline ends
    assert "NOT READY" not in output and "Traceback" not in output
    report = _report(tmp_path)
    assert report["status"] == "failed" and "overloaded" in str(report["error"])
    lab = report["lab"]
    assert isinstance(lab, dict) and lab["load_model"] == "closed"
    assert lab["loop_lag_ms"]["max"] > 250
    assert "lab: event-loop lag p50" in output  # the lab's figures on the console too


@pytest.mark.parametrize("load", ["users: 20, think: 200ms", "arrival: 20/s, users: 20"])
def test_a_normal_run_does_not_trip_the_monitor(tmp_path: Path, load: str) -> None:
    code, output, _ = _lab_run(tmp_path, SMALL.format(load=load), "demo:hardened", timeout=60)
    assert code == 0, output
    lab = _report(tmp_path)["lab"]
    assert isinstance(lab, dict)
    assert lab["loop_lag_ms"]["p99"] < 100  # far below the 250 ms limit
    if "arrival" in load:
        assert lab["schedule_slip_ms"]["p99"] < 100
        assert lab["arrivals"]["planned"] == lab["arrivals"]["started"] >= 115


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once it is closed


def test_an_unmanaged_target_that_is_not_running_is_a_lab_error(tmp_path: Path) -> None:
    port = _closed_port()
    target = tmp_path / "target.yaml"
    target.write_text(UNMANAGED.format(port=port))
    code, output, seconds = _lab_run(
        tmp_path, SMALL.format(load="users: 5"), str(target), timeout=60
    )
    assert code == 3, output
    assert f"the target at http://127.0.0.1:{port} refused the connection: is it running?" in output
    assert "expects the target to be running already" in output
    assert seconds < 20  # found before the timeline, not after it
    assert "NOT READY" not in output and "score" not in output


@pytest.fixture
def accepts_once() -> Iterator[int]:
    """A port that accepts one connection (the lab's early check) and then nothing more:
    a target that died right after the lab looked."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = int(listener.getsockname()[1])

    def serve() -> None:
        connection, _ = listener.accept()
        connection.close()
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    thread.join(timeout=5)


def test_a_target_refusing_every_baseline_request_is_a_lab_error(
    tmp_path: Path, accepts_once: int
) -> None:
    target = tmp_path / "target.yaml"
    target.write_text(UNMANAGED.format(port=accepts_once))
    code, output, seconds = _lab_run(
        tmp_path, SMALL.format(load="arrival: 10/s"), str(target), timeout=60
    )
    assert code == 3, output
    assert (
        f"the target at http://127.0.0.1:{accepts_once} refused every connection during the "
        "baseline: is it running?"
    ) in output
    assert re.search(r"(\d+) of \1 requests: ClientConnectorError", output), output
    assert seconds < 20  # at the baseline's end (3 s), not after the whole timeline
    assert _report(tmp_path)["status"] == "failed"


BURST = """\
version: 1
name: burst
title: a burst of arrivals into a slow provider
seed: 3
sla: 10s
load: {arrival: 10/s, max_in_flight: 15, users: 20, patience: 10s}
phases:
  - {name: baseline, for: 3s}
  - {name: burst, for: 3s, arrival: 60/s, faults: [{provider: {latency: 1s}}]}
  - {name: after, for: 2s}
checks: [resilience.fallback]
"""


async def test_a_burst_past_max_in_flight_is_dropped_and_counted_per_phase(
    tmp_path: Path,
) -> None:
    path = tmp_path / "burst.yaml"
    path.write_text(BURST)
    run, result = await run_lab(path, "demo:naive", tmp_path / "runs")
    assert result.status == "completed"
    report = report_for(run, result)
    phases = {p["name"]: p for p in report["phases"]}
    baseline = result.record.phase("baseline")
    assert baseline is not None
    assert 29 <= len(result.record.requests_in(baseline)) <= 31  # 10/s for 3 s
    assert phases["baseline"]["dropped_arrivals"] == 0
    # 60/s into ~1.5 s answers with room for 15: about 10/s start, the rest are dropped
    assert phases["burst"]["dropped_arrivals"] > 100
    lab = report["lab"]
    arrivals = lab["arrivals"]
    assert arrivals["dropped"] == report["totals"]["dropped_arrivals"]
    assert arrivals["planned"] == arrivals["started"] + arrivals["dropped"] + arrivals["missed"]
    assert 225 <= arrivals["planned"] <= 235  # 30 + 180 + 20
    journal = [json.loads(line) for line in (result.run_dir / "events.jsonl").open()]
    dropped = [e for e in journal if e["kind"] == "arrivals_dropped"]
    assert sum(e["count"] for e in dropped) == arrivals["dropped"]
    assert {e["phase"] for e in dropped} <= {"burst", "after"}
