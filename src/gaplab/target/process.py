"""Start a target as a subprocess, wait until it is ready, and always stop it.

The process runs in its own session (process group) so that stopping it also stops any
children it spawned (uvicorn reloaders, worker pools). Its output goes to the run's log
file and the last lines are kept for the error message when it does not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import socket
from collections import deque
from pathlib import Path

import aiohttp

from gaplab.errors import LabError
from gaplab.scenario.target_models import StartSpec
from gaplab.target.template import render

TAIL_LINES = 20


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the target binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class TargetProcess:
    def __init__(
        self, spec: StartSpec, names: dict[str, str], log_path: Path, base_url: str
    ) -> None:
        self._spec = spec
        self._names = names
        self._log_path = log_path
        self._base_url = base_url.rstrip("/")
        self._process: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

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
        try:
            self._process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self._spec.cwd,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise LabError(f"the target did not start: {shlex.join(argv)}: {exc}") from None
        self._pump = asyncio.create_task(self._copy_output())
        await self._wait_ready()

    async def _copy_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._log_path.open("ab") as log:
            async for line in self._process.stdout:
                log.write(line)
                log.flush()
                self.tail.append(line.decode("utf-8", errors="replace").rstrip())

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
        """SIGTERM the whole process group, SIGKILL it after `grace` seconds."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                _signal_group(process.pid, signal.SIGKILL)
                await process.wait()
        # Children that outlived the leader still belong to the group.
        _signal_group(process.pid, signal.SIGKILL)
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
