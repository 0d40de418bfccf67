"""SIGKILL of `lab run`, `lab provider serve` or `lab proxy serve` leaves no process of theirs
alive 2 s later: real commands, a real SIGKILL, the process tree read from /proc before it.

The stubborn target ignores SIGTERM and has a child of its own that ignores it too: only
its supervisor's SIGKILL of the whole process group, after the short grace a target gets
when the lab died, ends them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc"),
]

LAB = [sys.executable, "-m", "gaplab"]
WITHIN = 2.0  # seconds after the SIGKILL

LONG = """\
version: 1
name: long
title: long enough to be killed
seed: 3
sla: 3s
load: {users: 4, think: 100ms, patience: 5s}
phases:
  - {name: baseline, for: 60s}
checks: [resilience.contained]
"""

STUBBORN = """\
import json, signal, subprocess, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by the child below
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.answer()

    def answer(self):
        body = json.dumps({"answer": "fine"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

STUBBORN_TARGET = """\
name: stubborn
start:
  command: [{python!r}, {script!r}, "{{port}}"]
  ready: {{http: GET /health, within: 20s}}
request: {{url: "http://127.0.0.1:{{port}}/chat", json: {{q: "{{input}}"}}}}
response: {{answer: $.answer}}
"""


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of a process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[1]), fields[0], fields[19]


def descendants(root: int) -> dict[int, str]:
    """Every live process under `root`, with its start time (to tell a reused pid)."""
    parents: dict[int, int] = {}
    started: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat[0]
            started[int(entry.name)] = stat[2]
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = started[pid]
                frontier.append(pid)
    return found


def _alive(pid: int, started: str) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] == started and stat[1] != "Z"  # a zombie has exited


def kill_and_time(process: subprocess.Popen[str], tree: dict[int, str]) -> float:
    """SIGKILL `process`; seconds until every process of `tree` is gone (inf if not by 10 s)."""
    killed = time.monotonic()
    process.kill()
    process.wait(timeout=10)
    while time.monotonic() - killed < 10:
        if not any(_alive(pid, started) for pid, started in tree.items()):
            return time.monotonic() - killed
        time.sleep(0.02)
    for pid, started in tree.items():  # leave nothing behind for the next test
        if _alive(pid, started):
            subprocess.run(["kill", "-9", str(pid)], check=False)
    return float("inf")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("target", ["demo:naive", "stubborn"])
def test_sigkill_of_lab_run_leaves_no_target_behind(tmp_path: Path, target: str) -> None:
    scenario = tmp_path / "long.yaml"
    scenario.write_text(LONG)
    if target == "stubborn":
        script = tmp_path / "stubborn.py"
        script.write_text(STUBBORN)
        target = str(tmp_path / "stubborn.yaml")
        Path(target).write_text(STUBBORN_TARGET.format(python=sys.executable, script=str(script)))
    process = subprocess.Popen(
        [*LAB, "run", str(scenario), "--target", target, "--runs-dir", str(tmp_path / "runs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    output = []
    for line in process.stdout:  # the target is ready once the first phase has begun
        output.append(line)
        if "phase 1 baseline" in line:
            break
    else:
        pytest.fail("the run never began:\n" + "".join(output))
    tree = descendants(process.pid)
    # The target (under its supervisor); the stubborn target's own child too.
    assert len(tree) >= (2 if target.endswith("stubborn.yaml") else 1), tree
    run_dir = next((tmp_path / "runs").iterdir())
    events = (run_dir / "events.jsonl").read_text().splitlines()
    started = next(json.loads(e) for e in events if '"run_started"' in e)
    target_port = int(started["target_base_url"].rsplit(":", 1)[1])
    assert _port_open(target_port)

    elapsed = kill_and_time(process, tree)
    assert elapsed <= WITHIN, f"processes of the killed lab still alive after {elapsed:.2f}s"
    assert not _port_open(target_port)


def test_sigkill_of_provider_serve_leaves_no_stream_worker_behind() -> None:
    process = subprocess.Popen(
        [*LAB, "provider", "serve", "--port", "0", "--json", "--stream-workers", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    addresses = json.loads(process.stdout.readline())
    tree = descendants(process.pid)
    assert addresses["stream_workers"] == 2 and len(tree) == 2, tree
    elapsed = kill_and_time(process, tree)
    assert elapsed <= WITHIN, f"stream workers still alive {elapsed:.2f}s after the SIGKILL"
    assert not _port_open(addresses["port"])


def test_sigkill_of_proxy_serve_leaves_nothing_behind(tmp_path: Path) -> None:
    upstream = socket.create_server(("127.0.0.1", 0))
    config = tmp_path / "proxies.json"
    config.write_text(
        json.dumps(
            [
                {
                    "name": "db",
                    "listen": "127.0.0.1:0",
                    "upstream": f"127.0.0.1:{upstream.getsockname()[1]}",
                }
            ]
        )
    )
    process = subprocess.Popen(
        [*LAB, "proxy", "serve", "--port", "0", "--json", "--config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        api_port = int(json.loads(process.stdout.readline())["api_url"].rsplit(":", 1)[1])
        tree = descendants(process.pid)
        assert tree == {}  # the proxies run on a thread of the server, not in processes
        assert _port_open(api_port)
        elapsed = kill_and_time(process, tree)
    finally:
        upstream.close()
    assert elapsed <= WITHIN
    assert not _port_open(api_port)
