"""Plays the matrix's jobs as real `lab run` subprocesses, `jobs` at a time.

Each run is an ordinary headless `lab run` of the job's scenario copy with
`--runs-dir <matrix folder>`, so its run folder, journal and report.json are what any run
leaves, and `lab report` / `lab compare` work on them. Subprocesses rather than runs in
this process: each run's mock provider, proxy and load generator get a core of their own
instead of sharing one event loop (and one GIL), which is what lets independent rows run
side by side on a small machine without the lab becoming the bottleneck.

Stopping: SIGINT or SIGTERM starts no new run and sends SIGINT to every run in progress
(each in its own process group, so a terminal's Ctrl-C reaches them once, through here);
a run stops its own target and provider and exits. One still alive after `GRACE` seconds
has its whole process group killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gaplab.matrix.outcome import Played

GRACE = 30.0  # seconds a run gets to stop after SIGINT before its process group is killed


@dataclass(frozen=True)
class RunJob:
    """One `lab run` to play: `key` identifies it to the caller."""

    key: str
    scenario: Path
    target: str


@dataclass(frozen=True)
class RunDone:
    key: str
    played: Played
    exit_code: int
    seconds: float


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; every run was stopped."""


def _run_folder(runs_dir: Path, name: str) -> Path | None:
    found = [p for p in runs_dir.glob(f"*-{name}") if (p / "scenario.json").is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _played(runs_dir: Path, job: RunJob, exit_code: int, log: Path) -> Played:
    folder = _run_folder(runs_dir, job.scenario.stem)
    report = folder / "report.json" if folder is not None else None
    if report is None or not report.is_file():
        return Played(
            "failed",
            run_dir=str(folder) if folder else None,
            error=f"`lab run` exited {exit_code} without a report; its output is in {log}",
        )
    return Played.from_report(json.loads(report.read_text(encoding="utf-8")), str(folder))


async def _one(job: RunJob, runs_dir: Path, logs: Path) -> RunDone:
    log = logs / f"{job.scenario.stem}.log"
    command = [
        sys.executable, "-m", "gaplab", "run", str(job.scenario),
        "--target", job.target, "--runs-dir", str(runs_dir),
    ]  # fmt: skip
    started = time.monotonic()
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = await process.wait()
        except asyncio.CancelledError:
            # Stop the run however many times we are cancelled: never leave it behind.
            stopper = asyncio.ensure_future(_stop(process))
            while not stopper.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(stopper)
            raise
    seconds = time.monotonic() - started
    return RunDone(job.key, _played(runs_dir, job, code, log), code, seconds)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGINT (the run stops its parts and writes its partial report), then, after
    `GRACE`, SIGKILL to its whole process group."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), GRACE)
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


async def play(
    jobs: list[RunJob],
    runs_dir: Path,
    *,
    at_once: int,
    on_done: Callable[[RunDone], None],
    on_signal: Callable[[str], None] = lambda name: None,
) -> dict[str, RunDone]:
    """Run every job, `at_once` at a time, in order; raise `Interrupted` after stopping
    them all when SIGINT or SIGTERM arrives."""
    logs = runs_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    gate = asyncio.Semaphore(at_once)
    stopping = asyncio.Event()
    done: dict[str, RunDone] = {}

    async def guarded(job: RunJob) -> None:
        async with gate:
            result = await _one(job, runs_dir, logs)
            done[job.key] = result
            on_done(result)

    loop = asyncio.get_running_loop()

    def interrupt(name: str) -> None:
        if not stopping.is_set():
            stopping.set()
            on_signal(name)

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, interrupt, sig.name)
            installed.append(sig)
    tasks = [asyncio.create_task(guarded(job)) for job in jobs]

    async def every_job() -> None:
        await asyncio.gather(*tasks)

    async def a_signal() -> None:
        await stopping.wait()

    all_done = asyncio.create_task(every_job())
    stop_wait = asyncio.create_task(a_signal())
    try:
        await asyncio.wait([all_done, stop_wait], return_when=asyncio.FIRST_COMPLETED)
        if stopping.is_set():
            raise Interrupted
        await all_done  # re-raises a bug in a job
    finally:
        # Interrupted, a bug, or done: a cancelled run stops its own process (see `_one`).
        stop_wait.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sig in installed:
            loop.remove_signal_handler(sig)
    return done
