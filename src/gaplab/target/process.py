"""Start a target through its supervisor, wait until it is ready, and always stop it.

The target runs under `gaplab.target.supervisor`, a small process of ours that starts it in
its own session (so stopping it also stops any children it spawned: uvicorn reloaders,
worker pools) and stops that whole process group when asked, or by itself when the lab
dies, even by SIGKILL: no target outlives the lab. Its output goes to the run's capped log
file (`gaplab.target.output`) and the last lines are kept for the error message when it
does not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import signal
import socket
import sys
from collections import deque
from pathlib import Path

import aiohttp

from gaplab.errors import LabError
from gaplab.scenario.target_models import StartSpec
from gaplab.target.output import CappedLog, TailLines
from gaplab.target.template import render

SUPERVISOR = (sys.executable, "-m", "gaplab.target.supervisor")
SUPERVISOR_START = 30.0  # seconds for the supervisor to start (a loaded CI machine)
STOP_MARGIN = 2.0  # seconds past the grace before the lab kills the supervisor itself
_READ_SIZE = 64 * 1024
REAP_WITHIN = 2.0  # seconds for the child watcher to see a supervisor that said goodbye


class TargetProcess:
    def __init__(
        self, spec: StartSpec, names: dict[str, str], log_path: Path, base_url: str
    ) -> None:
        self._spec = spec
        self._names = names
        self._log_path = log_path
        self._base_url = base_url.rstrip("/")
        self._process: asyncio.subprocess.Process | None = None  # the supervisor
        self._lab_end: socket.socket | None = None  # the lab's end of the supervisor's socket
        self._channel: asyncio.StreamWriter | None = None  # the same, once on the event loop
        self._reports: asyncio.StreamReader | None = None  # what the supervisor says
        self._target_pid: int | None = None
        self._pump: asyncio.Task[None] | None = None
        self._tail = TailLines()

    @property
    def pid(self) -> int | None:
        """The target's own process id (its process group's id too), once it started."""
        return self._target_pid

    @property
    def supervisor_pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def tail(self) -> deque[str]:
        """The last lines the target wrote."""
        return self._tail.lines

    def _argv(self) -> list[str]:
        command = render(self._spec.command, self._names)
        argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        if not argv:
            raise LabError("the target's start command is empty")
        return argv

    async def start(self) -> None:
        argv = self._argv()
        env = {**os.environ, **render(self._spec.env, self._names)}
        env.setdefault("PYTHONUNBUFFERED", "1")
        lab_end, supervisor_end = socket.socketpair()
        try:
            self._process = await asyncio.create_subprocess_exec(
                *SUPERVISOR,
                str(supervisor_end.fileno()),
                str(os.getpid()),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                pass_fds=(supervisor_end.fileno(),),
                start_new_session=True,  # Ctrl-C is the lab's: it stops the target itself
            )
        except OSError as exc:
            lab_end.close()
            raise LabError(f"the target's supervisor did not start: {exc}") from None
        finally:
            supervisor_end.close()
        self._lab_end = lab_end
        self._pump = asyncio.create_task(self._copy_output())
        reader, self._channel = await asyncio.open_unix_connection(sock=lab_end)
        self._reports, self._lab_end = reader, None
        spec = {"argv": argv, "env": env, "cwd": self._spec.cwd}
        self._channel.write(json.dumps(spec).encode() + b"\n")
        try:
            answer = await asyncio.wait_for(reader.readline(), SUPERVISOR_START)
        except TimeoutError:
            answer = b""
        word, _, detail = answer.decode("utf-8", errors="replace").strip().partition(" ")
        if word == "failed":
            await self.stop()
            raise LabError(f"the target did not start: {shlex.join(argv)}: {detail}")
        if word != "started":
            await self.stop()
            raise LabError(
                "the target's supervisor exited before it started the target; its output:",
                list(self.tail) or ["(no output)"],
            )
        self._target_pid = int(detail)
        await self._wait_ready()

    async def _copy_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        log = CappedLog(self._log_path)
        try:
            while data := await self._process.stdout.read(_READ_SIZE):
                log.write(data)
                self._tail.feed(data)
            self._tail.finish()
        finally:
            log.close()

    async def _wait_ready(self) -> None:
        assert self._process is not None
        ready = self._spec.ready
        method, path = ready.method, render(ready.path, self._names)
        headers = render(ready.headers, self._names)
        body = render(ready.json_body, self._names)
        url = self._base_url + path
        deadline = asyncio.get_running_loop().time() + self._spec.ready.within
        last_problem = "no answer yet"
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                if self._process.returncode is not None:
                    await self._drain_output()
                    raise LabError(
                        f"the target exited with code {self._process.returncode} before it was "
                        f"ready ({self._spec.ready.http}); its last output:",
                        list(self.tail) or ["(no output)"],
                    )
                try:
                    async with session.request(method, url, headers=headers, json=body) as response:
                        if response.status < 400:
                            return
                        last_problem = f"{self._spec.ready.http} answered HTTP {response.status}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    last_problem = f"{url}: {exc.__class__.__name__}: {exc}".rstrip(": ")
                if asyncio.get_running_loop().time() > deadline:
                    await self.stop()
                    raise LabError(
                        f"the target was not ready within {self._spec.ready.within:g}s "
                        f"({last_problem}); its last output:",
                        list(self.tail) or ["(no output)"],
                    )
                await asyncio.sleep(0.1)

    async def _drain_output(self) -> None:
        if self._pump is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._pump), 1.0)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop the target: SIGTERM to its whole process group, SIGKILL after `grace`
        seconds (the supervisor does both); then wait for its output to be written."""
        process = self._process
        if process is None:
            return
        channel, self._channel = self._channel, None
        reports, self._reports = self._reports, None
        if self._lab_end is not None:  # stopped while starting: end-of-file stops it
            self._lab_end.close()
            self._lab_end = None
        if channel is not None and not channel.is_closing():
            channel.write(f"stop {grace:g}\n".encode())
        said = await _last_words(process, reports, grace + STOP_MARGIN)
        if said is None:  # a supervisor that does not answer: kill it and the target
            _signal_group(process.pid, signal.SIGKILL)
        if self._target_pid is not None and (said is None or b"exited " not in said):
            _signal_group(self._target_pid, signal.SIGKILL)  # the supervisor was killed
        if channel is not None:
            channel.close()
        await self._drain_output()
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump


async def _last_words(
    process: asyncio.subprocess.Process, reports: asyncio.StreamReader | None, within: float
) -> bytes | None:
    """What the supervisor said before it exited (`exited CODE` once the target's group is
    gone), or None when it did not exit `within` seconds.

    Its end of the socket closes when it exits (the target never holds it). Not
    `process.wait()`: on Python 3.11 that also waits for the output pipe to close, which a
    target whose supervisor was killed keeps open."""
    if reports is None:  # stopped before the socket was on the event loop
        deadline = asyncio.get_running_loop().time() + within
        while process.returncode is None:
            if asyncio.get_running_loop().time() > deadline:
                return None
            await asyncio.sleep(0.05)
        return b""
    try:
        said = await asyncio.wait_for(reports.read(), within)
    except TimeoutError:
        return None
    except OSError:
        said = b""
    await _reaped(process, REAP_WITHIN)
    return said


async def _reaped(process: asyncio.subprocess.Process, within: float) -> None:
    """Wait (briefly) until the event loop's child watcher has seen the supervisor exit: its
    socket closes a moment before it exits, and a loop closed in between leaves the exit to
    a closed loop (asyncio then prints "Loop ... that handles pid N is closed" under the
    scorecard)."""
    deadline = asyncio.get_running_loop().time() + within
    # Polled: the only event asyncio offers is `wait()`, which also waits for the output
    # pipe, and a target whose supervisor was killed may hold that open.
    while process.returncode is None and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
