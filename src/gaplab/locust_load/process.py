"""The lab's side of `--load locust`: it starts the Locust process, feeds it, and publishes
what its users finished, as the built-in `LoadGenerator` does (the engine drives both
through the same calls: `start`, `set_users`, `connections`, `stop`).

The lab still runs centrally what is not the crowd: the provider, the faults, the timeline,
the verdict, and the non-AI probes and the greedy user (one user each: the built-in
client, on the lab's loop). The Locust process (`python -m gaplab.locust_load.main`) is
started with the plan it needs, connects back to the lab's channel, and exits when the lab
says stop or when its channel closes (the lab stopped or died: no orphan keeps sending).
Its output goes to `locust.log` in the run folder. No Locust import here: its gevent would
patch the lab's own process.

Each worker's share and health are journaled (`LoadWorkers`, gaplab.locust_load.workers);
a worker lost mid-run is a `LoadWorkerLost` event, and within the scenario's
`load.locust.allow_lost_workers` the run goes on; past it, or when the master or the local
runner itself is lost, `check_workers` stops the run as incomplete. The answers the
workers judged before a lesson of the lab's unsafe detector reached them are judged again
here (gaplab.locust_load.lessons).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from gaplab.engine.clock import Clock
from gaplab.engine.events import (
    Event,
    LoadWorkerLost,
    LogMessage,
    UserRequestFinished,
    event_from_dict,
)
from gaplab.errors import LabError
from gaplab.load.arrivals import ArrivalCounts
from gaplab.load.client import Connections, RequestClient, opted_out_users
from gaplab.load.greedy import GreedyUser
from gaplab.load.inputs import InputMix
from gaplab.load.probes import probe
from gaplab.locust_load.arrival_share import ArrivalTally
from gaplab.locust_load.channel import decode, encode
from gaplab.locust_load.lessons import Lesson, LessonBook
from gaplab.locust_load.plan import LocustPlan
from gaplab.locust_load.workers import WorkerBook
from gaplab.scenario.models import LoadSpec
from gaplab.scenario.target_models import TargetFile
from gaplab.target.ports import free_port
from gaplab.target.unsafe import UnsafeDetector

HELLO_WITHIN = 60.0  # seconds for a Locust process to start and connect (imports are slow)
BYE_WITHIN = 5.0  # seconds for it to send what it holds once told to stop
EXIT_WITHIN = 3.0  # then SIGTERM, and SIGKILL after this long
LAB_PID = "GAPLAB_LAB_PID"  # gaplab.locust_load.main: die with the lab
DEFAULT_MASTER_PORT = 5557  # Locust's: what workers on other machines connect to
REPORT_EVERY = 1.0  # seconds between LoadWorkers snapshots


class LocustLoad:
    def __init__(
        self,
        *,
        target: TargetFile,
        names: dict[str, str],
        base_url: str,
        load: LoadSpec,
        seed: int,
        clock: Clock,
        publish: Callable[[Event], None],
        current_phase: Callable[[], str],
        sla: float,
        run_dir: Path,
        detector: UnsafeDetector | None = None,
        workers: int = 0,
        expect_workers: int | None = None,
        master_port: int | None = None,
        phase_rates: Sequence[tuple[float, float | None]] = (),
        on_slip: Callable[[float], None] | None = None,
    ) -> None:
        """`workers`: local Locust worker processes (0: Locust's local runner, no master);
        `expect_workers`: the workers the master waits for, local ones included (more than
        `workers`: the rest join with `lab locust-worker`); `master_port`: where the master
        listens for workers (default: a free port when every worker is local, else 5557);
        `phase_rates`, `on_slip`: as for the built-in `LoadGenerator` (open arrivals)."""
        self._target, self._names, self._base_url = target, names, base_url.rstrip("/")
        self._load, self._seed, self._clock = load, seed, clock
        self._publish, self._phase, self._sla = publish, current_phase, sla
        self._run_dir = run_dir
        self._workers = workers
        self._expected = max(workers, expect_workers or 0)
        if master_port is None:
            master_port = free_port() if self._expected == workers else DEFAULT_MASTER_PORT
        self.master_port = master_port
        self._worker_processes: list[asyncio.subprocess.Process] = []
        self.workers_ready: list[int] = []
        self.workers_lost: list[str] = []  # what was lost past the allowance: the run's error
        self.book = WorkerBook(load.locust.allow_lost_workers, arrivals=load.open)
        self.lessons = LessonBook(detector, target.response)
        self._stopping = False
        # The lab's own client, for the probes and the greedy user.
        self.client = RequestClient(
            target,
            names,
            clock,
            publish,
            load.patience,
            opted_out_users(seed, load.users, load.opt_out),
            detector,
        )
        self._greedy = (
            None
            if load.greedy is None
            else GreedyUser(
                self.client,
                load.greedy,
                InputMix(load.greedy.inputs or load.inputs, seed),
                current_phase,
            )
        )
        self._probes: list[asyncio.Task[None]] = []
        self._server: asyncio.Server | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._hello = asyncio.Event()
        self._bye = asyncio.Event()
        self._readers: list[asyncio.Task[None]] = []
        self._watchers: list[asyncio.Task[None]] = []
        self._users = 0
        self.received = 0
        self._reporter: asyncio.Task[None] | None = None
        self.connections_by_phase: dict[str, Connections] = {}
        # Open arrivals: the Locust processes walk the plan; the lab sums their reports.
        self._phase_rates = list(phase_rates)
        self.arrivals = ArrivalTally(on_slip) if load.open else None

    # -- the engine's calls ----------------------------------------------------------------
    async def prepare(self) -> None:
        """Start the Locust processes and wait until they are connected (and the master
        has its workers): before the timeline's clock starts, so the first phase is not
        shortened by Locust's start-up. Their users wait for `start`."""
        if self._process is not None:
            return
        self.client.open()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        plan = LocustPlan.build(
            target=self._target,
            names=self._names,
            base_url=self._base_url,
            load=self._load,
            seed=self._seed,
            sla=self._sla,
            origin=time.monotonic() - self._clock.now(),
            lab_host="127.0.0.1",
            lab_port=port,
            users=0,  # until `start` says how many
            phase=self._phase(),
            phase_rates=self._phase_rates,
        )
        path = plan.write(self._run_dir / "locust-plan.json")
        self._log = (self._run_dir / "locust.log").open("ab")
        if self._expected:
            self._process = await self._spawn(
                "master", str(path), str(self._expected), str(self.master_port)
            )
            for _ in range(self._workers):
                worker = await self._spawn("worker", "127.0.0.1", str(self.master_port))
                self._worker_processes.append(worker)
        else:
            self._process = await self._spawn("local", str(path))
        # Ready when the hello comes; not when a Locust process exits first (no point
        # waiting out the minute for a worker that is gone).
        hello = asyncio.create_task(self._hello.wait())
        exits = [
            asyncio.create_task(p.wait())
            for p in (self._process, *self._worker_processes)
            if p is not None
        ]
        await asyncio.wait([hello, *exits], timeout=HELLO_WITHIN, return_when="FIRST_COMPLETED")
        for task in (hello, *exits):
            task.cancel()
        if not self._hello.is_set():
            problem = self._missing()
            await self._end_process()
            raise LabError(problem) from None

    async def start(self, users: int, origin: float | None = None) -> None:
        """Start `users` closed users on Locust, and the probes and the greedy user here."""
        await self.prepare()
        assert self._process is not None
        name = "the Locust master" if self._expected else "the Locust process"
        self._watchers = [asyncio.create_task(self._watch(self._process, name))]
        for number, worker in enumerate(self._worker_processes):
            self._watchers.append(
                asyncio.create_task(
                    self._watch(worker, f"local Locust worker process {number}", worker=True)
                )
            )
        self._reporter = asyncio.create_task(self._report_often())
        if self.arrivals is not None:  # the timeline starts at `origin` (run clock)
            self._send(
                {"phase": self._phase(), "arrive": self._clock.now() if origin is None else origin}
            )
        else:
            self.set_users(users)
        for endpoint in self._target.non_ai_endpoints:
            self._probes.append(
                asyncio.create_task(
                    probe(
                        self.client,
                        endpoint,
                        self._base_url,
                        self._names,
                        self._load.non_ai_interval,
                        self._phase,
                    )
                )
            )
        if self._greedy is not None:
            self._greedy.start()

    async def _spawn(self, *arguments: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gaplab.locust_load.main",
            *arguments,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own group: a Ctrl-C is the lab's to handle
            env={**os.environ, LAB_PID: str(os.getpid())},  # it dies with the lab
        )

    def _missing(self) -> str:
        """Why the Locust processes are not ready: which workers did not come."""
        log = self._run_dir / "locust.log"
        if not self._expected:
            process = self._process
            if process is not None and process.returncode is not None:
                return f"the Locust process exited with code {process.returncode} (see {log})"
            return f"the Locust process did not connect within {HELLO_WITHIN:g} s (see {log})"
        came = len(self.workers_ready)
        text = (
            f"{came} of {self._expected} Locust workers connected to the master (port "
            f"{self.master_port})"
        )
        if came:
            text += f" (worker numbers {', '.join(map(str, self.workers_ready))})"
        exited = [p for p in self._worker_processes if p.returncode is not None]
        if exited:
            text += "; local workers that exited: " + ", ".join(
                f"pid {p.pid} (exit code {p.returncode})" for p in exited
            )
        remote = self._expected - self._workers
        if remote:
            text += (
                f"; {remote} expected from other machines (`lab locust-worker --master "
                f"HOST:{self.master_port}`)"
            )
        return text + f" (see {log})"

    def _lose(self, what: str) -> None:
        if not self._stopping and what not in self.workers_lost:
            self.workers_lost.append(what)

    def _lose_worker(self, number: int, reason: str, what: str) -> None:
        """Worker `number` is gone (`what`: how the run's error says it, past the allowance)."""
        if self._stopping:
            return
        lost = self.book.lose(number, reason, self._phase(), self._clock.now())
        if lost is None:
            return  # already counted (its process exited, then its master missed it)
        self._publish(lost)
        level = "warning" if lost.allowed else "error"
        self._publish(LogMessage(t=lost.t, level=level, message=lost.describe()))
        if not lost.allowed:
            self._lose(what + self._allowance(lost))

    def _allowance(self, lost: LoadWorkerLost) -> str:
        if not lost.remaining:
            return " (no worker left)"
        allowed = self.book.allowed_lost
        return (
            f" ({len(self.book.lost)} lost, the scenario allows {allowed}: "
            "load.locust.allow_lost_workers)"
        )

    async def _watch(
        self, process: asyncio.subprocess.Process, name: str, *, worker: bool = False
    ) -> None:
        code = await process.wait()
        what = f"{name} (pid {process.pid}) exited with code {code}"
        number = self.book.by_pid(process.pid) if worker else None
        if number is None:
            self._lose(what)  # the master, the local runner, or a worker not yet known
        else:
            self._lose_worker(number, f"exited with code {code}", what)

    async def _report_often(self) -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY)
            self._publish(self.book.snapshot(self._clock.now()))

    def in_flight_now(self) -> tuple[int, float | None]:
        """The Locust users' requests in flight (as the workers last reported them) and the
        lab's own (probes, greedy user), and when the oldest of them started."""
        count, oldest = self.book.in_flight()
        mine = self.client.in_flight
        started = [f.started for f in mine.values()]
        if oldest is not None:
            started.append(oldest)
        return count + len(mine), min(started, default=None)

    def share_report(self, now: float) -> str:
        """Each worker's share of the requests, and how long ago its last batch came."""
        shares = self.book.snapshot(now, final=True).workers
        total = sum(w.finished for w in shares)
        if not total:
            return "Locust: no request finished"
        parts = [
            f"worker {w.worker}: {w.finished:,} requests ({w.share:.0%}), "
            f"last batch {w.since_batch or 0.0:.1f} s ago" + (", lost" if w.state == "lost" else "")
            for w in shares
            if w.finished
        ]
        return f"Locust: {total:,} requests; " + "; ".join(parts)

    def check_workers(self) -> None:
        """At each phase edge: a Locust process lost mid-run past the scenario's allowance
        (or the master, or the local runner) leaves the run incomplete (its users'
        requests stopped), so the run stops with the reason."""
        if self.workers_lost:
            raise LabError(
                "; ".join(self.workers_lost)
                + f" in phase {self._phase()}: its users stopped, so the run is incomplete "
                f"(see {self._run_dir / 'locust.log'})"
            )

    def phase_changed(self) -> None:
        """Tell the Locust processes the phase now, as soon as it starts (before its faults
        are applied: a request sent meanwhile belongs to it, as under the built-in load)."""
        self._send({"phase": self._phase()})

    def set_users(self, users: int) -> None:
        """Closed users: how many now (open arrivals follow their plan: the phase only)."""
        if self.arrivals is not None:
            self._send({"phase": self._phase()})
            return
        self._users = users
        self._send({"phase": self._phase(), "users": users})

    def teach(self, lesson: Lesson) -> None:
        """Pass on what the lab's unsafe detector learned from a provider call, numbered
        (an answer judged before it arrived is judged again here, `LessonBook`)."""
        message = self.lessons.message(lesson)
        if message is not None:
            self._send(message)

    @property
    def users(self) -> int:
        return self._users

    @property
    def stale_retries(self) -> int:
        return self.client.stale_retries

    def counts(self) -> ArrivalCounts | None:
        """Open arrivals so far, summed over the Locust processes (None under closed users)."""
        return self.arrivals.counts() if self.arrivals is not None else None

    def connections(self, phase: str) -> Connections:
        mine = self.connections_by_phase.get(phase, Connections())
        lab = self.client.connections.get(phase, Connections())
        return Connections(
            mine.finished + lab.finished,
            mine.failed + lab.failed,
            mine.refused + lab.refused,
            mine.last_failure or lab.last_failure,
        )

    async def stop(self) -> None:
        """Tell the Locust process to stop, take what it still sends, and end it."""
        self._stopping = True
        if self._reporter is not None:  # the workers stop reporting: not "late"
            self._reporter.cancel()
        now = self._clock.now()
        pending = self.client.pending()
        if self._writer is not None and not self._writer.is_closing():
            self._send({"stop": self._sla})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._bye.wait(), BYE_WITHIN)
        await self._end_process()
        # Once every batch is in (the last ones come with the goodbye).
        ended = self._clock.now()
        final = self.book.snapshot(ended, final=True)
        if final.workers:
            self._publish(final)
        self._publish(LogMessage(t=ended, level="info", message=self.share_report(ended)))
        if self.lessons.rejudged:
            self._publish(
                LogMessage(
                    t=ended,
                    level="info",
                    message=f"late lessons: {self.lessons.rejudged:,} answers of the Locust "
                    f"workers judged again on arrival, {self.lessons.changed:,} found unsafe",
                )
            )
        if self._greedy is not None:
            await self._greedy.stop()
        for task in self._probes:
            task.cancel()
        for task in self._probes:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for task in (*self._readers, *self._watchers):
            task.cancel()
        if self._server is not None:
            self._server.close()
        self.client.abandon(pending, now, self._sla)
        await self.client.close()

    # -- the channel -----------------------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._readers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while line := await reader.readline():
                self._receive(decode(line))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._bye.set()

    def _receive(self, message: dict[str, Any]) -> None:
        now = self._clock.now()
        if "workers_ready" in message:
            self.workers_ready = [int(w) for w in message["workers_ready"]]
        ready = message.get("worker_ready")
        if ready is not None:
            self.book.met(int(ready["worker"]), now, ready.get("pid"), ready.get("host", ""))
        for number in message.get("workers_lost", ()):
            self._lose_worker(
                int(number),
                "stopped answering its master",
                f"Locust worker {number} stopped answering its master",
            )
        beat = message.get("beat")
        if beat is not None:
            self.book.reported(
                int(beat["worker"]),
                now,
                users=int(beat["users"]),
                in_flight=int(beat["in_flight"]),
                oldest=beat.get("oldest"),
                pid=beat.get("pid"),
                host=beat.get("host", ""),
            )
        if "hello" in message:
            self._hello.set()
        batch = message.get("events")
        if batch:
            self._take(batch, int(message.get("worker", 0)), now)
        if self.arrivals is not None:
            for dropped in self.arrivals.take(message, self._clock.now()):
                self._publish(dropped)
        if "bye" in message:
            self._bye.set()

    def _take(self, batch: list[dict[str, Any]], worker: int, now: float) -> None:
        """A worker's finished requests: each judged again when a lesson it lacked bears
        on it (its body and the worker's last lesson come along, never journaled)."""
        judged = self.lessons.judged
        for data in batch:
            body, answer = data.pop("body", None), data.pop("answer", None)
            lessons = data.pop("lessons", 0)
            event = event_from_dict(data)
            assert isinstance(event, UserRequestFinished)
            event = judged(event, body, lessons, answer)
            self._count(event)
            self._publish(event)
        self.received += len(batch)
        self.book.finished(worker, len(batch), now)

    def _count(self, event: UserRequestFinished) -> None:
        connections = self.connections_by_phase.get(event.phase)
        if connections is None:
            connections = self.connections_by_phase[event.phase] = Connections()
        connections.finished += 1
        if event.status == 0 and "ConnectionRefused" in event.detail:
            connections.failed += 1
            connections.refused += 1
            connections.last_failure = event.detail

    def _send(self, message: dict[str, object]) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(encode(message))

    async def _end_process(self) -> None:
        """End every Locust process at once: those told to stop get `EXIT_WITHIN` to exit
        on their own (the master stops its workers), then SIGTERM to each process group,
        then SIGKILL. Bounded (about 2 × EXIT_WITHIN), well inside the lab's teardown."""
        processes = [p for p in (self._process, *self._worker_processes) if p is not None]
        # None: wait for them to exit on their own (only worth it once they said goodbye).
        steps = [None, signal.SIGTERM, signal.SIGKILL]
        if not self._bye.is_set():
            steps.remove(None)
        for sig in steps:
            running = [p for p in processes if p.returncode is None]
            if not running:
                break
            for process in running:
                if sig is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, sig)
            await asyncio.wait(
                [asyncio.create_task(p.wait()) for p in running], timeout=EXIT_WITHIN
            )
        if self._log is not None:
            self._log.close()
            self._log = None
        self._process = None
        self._worker_processes = []
