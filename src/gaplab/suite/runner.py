"""Run a suite: every listed scenario as its own `lab run` process, `concurrency` at a time,
each run folder inside the suite's folder, then one merged scorecard (gaplab.suite.merge).

Why processes: a scenario's verdicts rest on timings (latency, in-flight calls, probes
every 0.5 s), and one event loop shared by several runs would add its own lateness to all
of them; separate processes use both cores and keep each run exactly the run `lab run`
makes. Scenarios never share a port, a provider or a target, so the only thing they share
is CPU. Longest first (the usual LPT schedule) so the last one to start is short.

Measured on this 2-core machine with `python bench/suite.py` (shared with other work:
load average 5-11 while measuring): the 34 bundled scenarios are 1,131 s of timeline; at
`time_scale: 0.6` with five scenarios at their own scale, the suite against demo:hardened
took 264-277 s wall at `concurrency: 4` (220-228 s at 5) and about 190 s CPU in all (4
to 10 s per scenario: the wall time is the timeline, not the CPU), READY with the same
verdicts in 3 runs and none borderline. At 5, with the machine at load 9-10, one
scenario's lab crossed its own event-loop lag limit (a lab error, exit 3), so the bundled
suite uses 4. With hang, black_hole and slow_network back at full length (their fault
must outlast the SLA) one run took 278 s wall, 211 s CPU (load 6). One at a time it
would take about 16 minutes.

Progress: `snapshot()` (a frozen `SuiteProgress`) for any front end, and `subscribe()` for
`SuiteEvent`s (scenario started / finished); a broken listener is logged, never fatal.
Cancelling `execute()` (Ctrl-C) sends SIGINT to the running scenarios, which stop their
processes and write partial reports, starts no more, and returns what there is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gaplab.engine.secrets import make_private_dir
from gaplab.scenario.durations import format_duration, parse_duration
from gaplab.suite.loading import LoadedSuite, PlannedScenario

log = logging.getLogger(__name__)

START_OVERHEAD = 4.0  # seconds a scenario takes besides its timeline (start, teardown)
MIN_PHASE = 3.0  # a scaled phase is never shorter than this (nor than it was)
PORT_RETRIES = 1  # a target that lost its port before starting is started once more
STOP_GRACE = 30.0  # seconds a scenario gets to stop after SIGINT before it is killed


@dataclass(frozen=True)
class ScenarioOutcome:
    name: str
    target: str
    exit_code: int | None  # None: never started
    report_path: Path
    log_path: Path
    wall_s: float = 0.0
    cpu_s: float = 0.0  # the scenario process's CPU (user + system), children included


@dataclass(frozen=True)
class SuiteEvent:
    kind: str  # "started" | "finished"
    scenario: str
    t: float  # seconds since the suite started
    exit_code: int | None = None


@dataclass(frozen=True)
class SuiteProgress:
    total: int
    done: tuple[str, ...]
    running: tuple[tuple[str, float, float], ...]  # (name, elapsed s, expected s)
    left: int  # not started yet
    elapsed_s: float
    eta_s: float  # expected seconds to the end
    interrupted: bool = False


@dataclass
class _State:
    started: dict[str, float] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    interrupted: bool = False


class SuiteRun:
    def __init__(self, loaded: LoadedSuite, runs_dir: Path, *, time_scale: float | None = None,
                 concurrency: int | None = None) -> None:  # fmt: skip
        self.loaded = loaded
        self.suite = loaded.suite
        self._forced_scale = time_scale
        self.time_scale = time_scale if time_scale is not None else self.suite.time_scale
        self.concurrency = concurrency or self.suite.concurrency
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.run_dir = _free(runs_dir / f"{stamp}-{self.suite.suite}")
        # longest first: the last scenario to start is a short one
        self.order = sorted(loaded.entries, key=self.expected, reverse=True)
        self._state = _State()
        self._listeners: list[Callable[[SuiteEvent], None]] = []
        self._origin = time.monotonic()

    # -- what front ends read ---------------------------------------------------------------
    def scale_of(self, entry: PlannedScenario) -> float:
        """The entry's own time scale, else the suite's (a --time-scale overrides both)."""
        if self._forced_scale is None and entry.time_scale is not None:
            return entry.time_scale
        return self.time_scale

    def expected(self, entry: PlannedScenario) -> float:
        scale = self.scale_of(entry)
        phases = sum(_scaled(p.duration, scale) for p in entry.scenario.phases)
        return phases + START_OVERHEAD

    def subscribe(self, listener: Callable[[SuiteEvent], None]) -> None:
        self._listeners.append(listener)

    def snapshot(self) -> SuiteProgress:
        state, now = self._state, time.monotonic()
        by_name = {e.name: e for e in self.order}
        running = tuple(
            (n, now - t0, self.expected(by_name[n]))
            for n, t0 in state.started.items()
            if n not in state.done
        )
        waiting = [e for e in self.order if e.name not in state.started]
        work = sum(max(0.0, exp - el) for _, el, exp in running) + sum(map(self.expected, waiting))
        return SuiteProgress(
            total=len(self.order),
            done=tuple(state.done),
            running=running,
            left=len(waiting),
            elapsed_s=now - self._origin,
            eta_s=work / self.concurrency,
            interrupted=state.interrupted,
        )

    def _emit(self, event: SuiteEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken front end must not stop the suite
                log.exception("suite listener failed on %s", event)

    # -- running ----------------------------------------------------------------------------
    async def execute(self) -> list[ScenarioOutcome]:
        """Every scenario, `concurrency` at a time; on cancellation, the running ones are
        interrupted (partial reports) and the rest never start. Outcomes in suite order."""
        make_private_dir(self.run_dir)
        self._origin = time.monotonic()
        gate = asyncio.Semaphore(self.concurrency)
        outcomes: dict[str, ScenarioOutcome] = {}

        async def one(entry: PlannedScenario) -> None:
            async with gate:
                if self._state.interrupted:
                    return
                outcomes[entry.name] = await self._play(entry)

        tasks = [asyncio.create_task(one(e)) for e in self.order]
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            self._state.interrupted = True
            await self._interrupt(tasks)
        ordered = []
        for entry in self.loaded.entries:
            outcome = outcomes.get(entry.name)
            if outcome is None:
                outcome = ScenarioOutcome(entry.name, entry.target_label, None,
                                          *self._paths(entry))  # fmt: skip
            ordered.append(outcome)
        return ordered

    async def _interrupt(self, tasks: list[asyncio.Task[None]]) -> None:
        # Each running scenario got SIGINT from its own task (`_stop`) and is waited for
        # there, so the partial reports get written; make sure every task has ended.
        await asyncio.gather(*tasks, return_exceptions=True)

    def _paths(self, entry: PlannedScenario) -> tuple[Path, Path]:
        return self.run_dir / f"{entry.name}.report.json", self.run_dir / f"{entry.name}.log"

    async def _play(self, entry: PlannedScenario) -> ScenarioOutcome:
        report_path, log_path = self._paths(entry)
        cpu_path = log_path.with_suffix(".cpu")
        scenario_file = self._scaled(entry)
        command = [
            sys.executable, "-m", "gaplab.suite.child", str(cpu_path), "run", str(scenario_file),
            "--target", entry.target_label, "--runs-dir", str(self.run_dir),
            "--fail-under", str(self.suite.fail_under), "--json", str(report_path),
        ]  # fmt: skip
        started = time.monotonic()
        self._state.started[entry.name] = started
        self._emit(SuiteEvent("started", entry.name, started - self._origin))
        for attempt in range(1 + PORT_RETRIES):
            with log_path.open("ab" if attempt else "wb") as out:
                process = await asyncio.create_subprocess_exec(
                    *command, stdout=out, stderr=asyncio.subprocess.STDOUT,
                    stdin=asyncio.subprocess.DEVNULL,
                    start_new_session=True,  # Ctrl-C reaches it once, through the suite
                    env={**os.environ, "COLUMNS": "140"},
                )  # fmt: skip
                self._state.processes[entry.name] = process
                try:
                    code = await asyncio.shield(process.wait())
                except asyncio.CancelledError:
                    self._state.interrupted = True  # no retry, nothing more starts
                    code = await _stop(process)
            del self._state.processes[entry.name]
            if self._state.interrupted or not _lost_its_port(code, log_path):
                break
            log.warning("%s: the target lost its port before it started; once more", entry.name)
        wall = time.monotonic() - started
        self._state.done.append(entry.name)
        self._emit(SuiteEvent("finished", entry.name, time.monotonic() - self._origin, code))
        return ScenarioOutcome(entry.name, entry.target_label, code, report_path, log_path,
                               wall, _cpu_of(cpu_path))  # fmt: skip

    def _scaled(self, entry: PlannedScenario) -> Path:
        """The scenario file to run: the listed one, or a copy with its phases scaled."""
        scale = self.scale_of(entry)
        if scale >= 1.0:
            return entry.path
        data: dict[str, Any] = yaml.safe_load(entry.path.read_text(encoding="utf-8"))
        for phase in data["phases"]:
            phase["for"] = format_duration(_scaled(parse_duration(phase["for"]), scale))
        folder = self.run_dir / "scenarios"
        folder.mkdir(exist_ok=True)
        path = folder / f"{entry.name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path


def _lost_its_port(code: int, log_path: Path) -> bool:
    """The scenario never started: its target could not bind the port the lab had just
    found free, because another process took it in between (a client's ephemeral port;
    with several runs at once, more likely). The only failure the suite retries."""
    if code != 3:
        return False
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "before it was ready" in text and "address already in use" in text


def _scaled(seconds: float, scale: float) -> float:
    return seconds if scale >= 1.0 else max(min(seconds, MIN_PHASE), round(seconds * scale, 1))


async def _stop(process: asyncio.subprocess.Process) -> int:
    """The suite was cancelled while the scenario ran: SIGINT to it at once (it stops its
    processes and writes its partial report), wait for that, and kill a stuck one after
    `STOP_GRACE`. Sent here, by the scenario's own task: the gather in `execute()` only
    raises once every scenario task has ended, so a SIGINT sent after it came 30 s late
    (each scenario killed, no partial report) whenever a scenario was running."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        return await asyncio.wait_for(process.wait(), STOP_GRACE)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return await process.wait()


def _cpu_of(path: Path) -> float:
    """The CPU seconds gaplab.suite.child wrote for the scenario (0 if it could not)."""
    try:
        return float(path.read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):
        return 0.0


def _free(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate
