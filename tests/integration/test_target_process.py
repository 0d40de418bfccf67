"""`TargetProcess` with real processes: through its supervisor a target gets its environment
(never on a command line), says why it did not start, is stopped with its whole process
group within the grace even when it ignores SIGTERM, is stopped by the lab even when its
supervisor was killed, and its log keeps the head and the tail of a flood of output."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from gaplab.errors import LabError
from gaplab.scenario.target_models import ReadySpec, StartSpec
from gaplab.target.output import HEAD_BYTES, TAIL_BYTES
from gaplab.target.ports import free_port
from gaplab.target.process import TargetProcess

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

# A target that writes FLOOD bytes of numbered lines, then serves /health and /env; with
# STUBBORN set it ignores SIGTERM and has a child that ignores it too.
SERVICE = """\
import json, os, signal, subprocess, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if os.environ.get("STUBBORN"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    print("child", child.pid, flush=True)
flood = int(os.environ.get("FLOOD", "0"))
line, written = 0, 0
while written < flood:
    text = f"line {line:09d} " + "x" * 84 + "\\n"
    sys.stdout.write(text)
    written += len(text)
    line += 1
print("last words", flush=True)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(dict(os.environ)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _target(tmp_path: Path, **env: str) -> tuple[TargetProcess, int]:
    script = tmp_path / "service.py"
    script.write_text(SERVICE)
    port = free_port()
    spec = StartSpec(
        command=[sys.executable, str(script), "{port}"],
        env=env,
        ready=ReadySpec(http="GET /health", within=20.0),
    )
    process = TargetProcess(
        spec, {"port": str(port)}, tmp_path / "target.log", f"http://127.0.0.1:{port}"
    )
    return process, port


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited


def _gone(pid: int, within: float = 2.0) -> bool:
    """Whether `pid` has exited within `within` seconds (a SIGKILL takes a moment)."""
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


async def test_the_environment_reaches_the_target_but_no_command_line(tmp_path: Path) -> None:
    process, port = _target(tmp_path, SERVICE_TOKEN="tok-5d41402abc4b2a76")
    await process.start()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/env") as answer,
        ):
            env = await answer.json(content_type=None)
        assert env["SERVICE_TOKEN"] == "tok-5d41402abc4b2a76"
        assert env["PYTHONUNBUFFERED"] == "1"
        for pid in (process.pid, process.supervisor_pid):
            assert pid is not None
            assert b"tok-5d41402abc4b2a76" not in _cmdline(pid)
        assert os.getpgid(process.pid) == process.pid  # the target leads its own group
    finally:
        await process.stop()
    assert _gone(process.pid)


async def test_a_command_that_cannot_run_says_why(tmp_path: Path) -> None:
    spec = StartSpec(command="./no-such-service --port {port}")
    process = TargetProcess(spec, {"port": "1"}, tmp_path / "target.log", "http://127.0.0.1:1")
    with pytest.raises(LabError) as caught:
        await process.start()
    assert str(caught.value).startswith(
        "the target did not start: ./no-such-service --port 1: [Errno 2] No such file"
    )
    assert process.supervisor_pid is not None and _gone(process.supervisor_pid)


async def test_a_target_that_ignores_sigterm_is_killed_with_its_group_after_the_grace(
    tmp_path: Path,
) -> None:
    process, _ = _target(tmp_path, STUBBORN="1")
    await process.start()
    child = int(next(line for line in process.tail if line.startswith("child")).split()[1])
    assert process.pid is not None and _alive(process.pid) and _alive(child)
    began = time.monotonic()
    await process.stop(grace=0.5)
    took = time.monotonic() - began
    assert 0.5 <= took < 2.0, took
    assert _gone(process.pid) and _gone(child)


async def test_the_lab_stops_the_target_when_its_supervisor_was_killed(tmp_path: Path) -> None:
    process, _ = _target(tmp_path)
    await process.start()
    assert process.supervisor_pid is not None and process.pid is not None
    try:
        os.kill(process.supervisor_pid, signal.SIGKILL)
        assert _gone(process.supervisor_pid) and _alive(process.pid)  # the target lives on
        await process.stop()
        assert _gone(process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


async def test_target_log_keeps_the_head_and_the_tail_and_says_what_was_cut(
    tmp_path: Path,
) -> None:
    flood = HEAD_BYTES + 3 * TAIL_BYTES  # more than the log holds even while running
    process, _ = _target(tmp_path, FLOOD=str(flood))
    await process.start()
    await process.stop()
    log = (tmp_path / "target.log").read_bytes()
    assert (tmp_path / "target.log").stat().st_mode & 0o777 == 0o600
    kept = re.fullmatch(rb"(?s)(line 0{9} .*?\n)\.\.\. ([\d,]+) bytes cut [^\n]*\n(.*)", log)
    assert kept is not None, log[:200]
    head, cut, tail = kept[1], int(kept[2].replace(b",", b"")), kept[3]
    assert HEAD_BYTES - 100 < len(head) <= HEAD_BYTES
    written = -(-flood // 100) * 100 + len(b"last words\n")  # lines of 100 bytes
    assert len(head) + cut + len(tail) == written  # nothing lost but what it says
    assert TAIL_BYTES - 100 <= len(tail) <= TAIL_BYTES
    assert tail.startswith(b"line ") and tail.endswith(b"last words\n")
    assert process.tail[-1] == "last words"  # the lines for error messages are whole


# A lab whose end of the supervisor's socket outlives it, held by a child of its own: the
# supervisor cannot rely on end-of-file and must notice its parent's death by itself.
LEAKY_LAB = """\
import json, os, socket, subprocess, sys, time
lab, end = socket.socketpair()
subprocess.Popen(
    [sys.executable, "-m", "gaplab.target.supervisor", str(end.fileno()), str(os.getpid())],
    pass_fds=(end.fileno(),),
    start_new_session=True,
)
end.close()
holder = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(60)"], pass_fds=(lab.fileno(),)
)
target = [sys.executable, "-c", "import time; time.sleep(300)"]
lab.sendall(json.dumps({"argv": target, "env": dict(os.environ), "cwd": None}).encode() + b"\\n")
print(lab.recv(100).decode().split()[1], holder.pid, flush=True)
time.sleep(60)
"""


def test_the_supervisor_notices_the_lab_died_while_its_socket_is_still_open() -> None:
    lab = subprocess.Popen([sys.executable, "-c", LEAKY_LAB], stdout=subprocess.PIPE, text=True)
    assert lab.stdout is not None
    target, holder = (int(pid) for pid in lab.stdout.readline().split())
    try:
        assert _alive(target)
        lab.kill()
        lab.wait()
        assert _gone(target, within=2.0)
    finally:
        os.kill(holder, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGKILL)


def test_the_supervisor_entry_point_checks_its_arguments() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gaplab.target.supervisor"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "usage:" in done.stderr
