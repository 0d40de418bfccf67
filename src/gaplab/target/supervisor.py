"""The target's supervisor: a small process of ours between the lab and a started target, so
that no target outlives the lab, even a lab killed with SIGKILL.

`python -m gaplab.target.supervisor FD LAB_PID` is started by `gaplab.target.process` with
one end of a Unix socket pair as FD. Over it, one line each:

- lab -> supervisor: the target as JSON `{"argv": [...], "env": {...}, "cwd": ...}` (the
  environment travels here, not on a command line that every local user can read in
  /proc), later `stop GRACE` to stop it;
- supervisor -> lab: `started PID` or `failed MESSAGE` (the command could not be run),
  and `exited CODE` once the target's whole process group is gone.

The target runs in its own session, so stopping it stops every process it spawned: SIGTERM
to its whole process group, SIGKILL after the grace, and SIGKILL again for members that
outlived the leader. The supervisor does that on `stop`, on SIGTERM/SIGHUP, and when the
lab dies, which it learns two ways: the socket reaches end-of-file when the kernel closes
the lab's end (portable; the lab's end is never inherited), and on Linux the
`PR_SET_PDEATHSIG` signal. It then gives the target `ORPHAN_GRACE` seconds, not the usual
grace. Its own exit status is the target's (killed by signal N: it kills itself with N).

It imports only the standard library (no asyncio), so it starts in about the time of a bare
Python; the target's output goes straight to the lab's pipe, never through this process.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from types import FrameType
from typing import Any

ORPHAN_GRACE = 1.0  # seconds a target gets to exit after the lab died
STOP_GRACE = 5.0  # for SIGTERM sent to the supervisor itself
_PARENT_DEATH_SIGNAL = signal.SIGUSR2  # PR_SET_PDEATHSIG: the lab's thread or process died
_PR_SET_PDEATHSIG = 1
_POLL = 0.5  # seconds between checks that the lab is still this process's parent


class Supervisor:
    def __init__(self, channel: socket.socket, lab_pid: int) -> None:
        self.channel = channel
        self.lab_pid = lab_pid
        self.stop_grace: float | None = None
        self._inbox = b""
        self._wake_r, wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_stop_signal)
        # Ctrl-C is the lab's to handle (it stops the target through `stop`); SIGCHLD and the
        # parent-death signal only need to wake the loop, which the wakeup fd does. Handled,
        # not ignored: an ignored signal would stay ignored in the target after exec.
        for signum in (signal.SIGINT, signal.SIGCHLD, _PARENT_DEATH_SIGNAL):
            signal.signal(signum, _ignore)
        _set_parent_death_signal(_PARENT_DEATH_SIGNAL)

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop_grace = STOP_GRACE

    def lab_alive(self) -> bool:
        # Once the lab has died this process is re-parented (to init or a subreaper).
        return os.getppid() == self.lab_pid

    def read_line(self, timeout: float | None) -> bytes | None:
        """The next line from the lab; b"" when the lab is gone; None on timeout/signal."""
        while b"\n" not in self._inbox:
            ready, _, _ = select.select([self.channel.fileno(), self._wake_r], [], [], timeout)
            if self._wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake_r, 512)
            if self.channel.fileno() not in ready:
                return None
            data = self.channel.recv(4096)
            if not data:
                return b""
            self._inbox += data
        line, _, self._inbox = self._inbox.partition(b"\n")
        return line + b"\n"

    def send(self, text: str) -> None:
        with contextlib.suppress(OSError):  # the lab may be gone already
            self.channel.sendall(text.encode("utf-8", errors="replace") + b"\n")

    def read_spec(self) -> dict[str, Any] | None:
        while self.lab_alive() and self.stop_grace is None:
            line = self.read_line(_POLL)
            if line is None:
                continue
            if not line:
                return None
            try:
                spec = json.loads(line)
            except ValueError:
                return None  # `stop` before anything was started
            return spec if isinstance(spec, dict) else None
        return None

    def watch(self, child: subprocess.Popen[bytes]) -> float | None:
        """Wait until the target exits (None) or must be stopped (the grace to give it)."""
        while not _exited(child):
            if self.stop_grace is not None:
                return self.stop_grace
            if not self.lab_alive():
                return ORPHAN_GRACE
            line = self.read_line(_POLL)
            if line == b"":
                return ORPHAN_GRACE
            if line and line.startswith(b"stop"):
                try:
                    return max(0.0, float(line.split()[1]))
                except (IndexError, ValueError):
                    return STOP_GRACE
        return None

    def wait_exit(self, child: subprocess.Popen[bytes], seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not _exited(child):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            select.select([self._wake_r], [], [], min(left, 0.05))
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 512)
        return True


def run(channel: socket.socket, lab_pid: int) -> int:
    supervisor = Supervisor(channel, lab_pid)
    spec = supervisor.read_spec()
    if spec is None:
        return 0
    try:
        child = subprocess.Popen(
            [str(a) for a in spec["argv"]],
            env={str(k): str(v) for k, v in spec["env"].items()},
            cwd=spec.get("cwd"),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except (OSError, KeyError, TypeError, AttributeError, ValueError) as exc:
        supervisor.send(f"failed {exc}")
        return 127
    supervisor.send(f"started {child.pid}")
    grace = supervisor.watch(child)
    if grace is not None:
        _signal_group(child.pid, signal.SIGTERM)
        supervisor.wait_exit(child, grace)
    # The leader's zombie keeps its group id reserved: kill what outlived it, then reap.
    _signal_group(child.pid, signal.SIGKILL)
    code = child.wait()
    supervisor.send(f"exited {code}")
    return code


def _exited(child: subprocess.Popen[bytes]) -> bool:
    """Whether the target exited, without reaping it (WNOWAIT) where the system allows."""
    if hasattr(os, "waitid"):
        try:
            return os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True
    return child.poll() is not None


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _ignore(signum: int, frame: FrameType | None) -> None:
    pass


def _set_parent_death_signal(signum: signal.Signals) -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes  # only here: a few milliseconds of start-up, and only on Linux

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)


def _exit_like(code: int) -> int:
    """Leave with the target's status: its exit code, or death by the signal that ended it."""
    if code < 0:
        signum = -code
        signal.set_wakeup_fd(-1)
        with contextlib.suppress(OSError, ValueError):  # SIGKILL's action cannot be set
            signal.signal(signum, signal.SIG_DFL)
        with contextlib.suppress(OSError):
            os.kill(os.getpid(), signum)
        return 128 + signum  # a signal whose default is not to end the process
    return code


def main(argv: list[str]) -> int:
    try:
        fd, lab_pid = int(argv[0]), int(argv[1])
    except (IndexError, ValueError):
        print("usage: python -m gaplab.target.supervisor FD LAB_PID", file=sys.stderr)
        return 2
    channel = socket.socket(fileno=fd)
    return _exit_like(run(channel, lab_pid))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
