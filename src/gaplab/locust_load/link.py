"""A Locust process's end of the channel to the lab (`gaplab.locust_load.channel`).

Runs under gevent (a Locust process); sends finished requests in batches from a flusher
greenlet, and applies what the lab says: the phase now, the number of users, what its
unsafe detector learned, stop. A process that runs users also reports about twice a second
the users it runs and has in flight (`beat`: the lab's worker share and health). The run
clock is the lab's: `now()` counts from the `time.monotonic()` the lab gave as its origin
(the same clock on one machine).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent.event import Event as Flag
from gevent.lock import Semaphore

from gaplab.engine.events import UserRequestFinished
from gaplab.load.client import InFlight
from gaplab.locust_load.channel import BATCH, BEAT, FLUSH, decode, encode
from gaplab.locust_load.plan import LocustPlan
from gaplab.target.classify import Verdict
from gaplab.target.unsafe import UnsafeDetector


class Sink:
    """Where a Locust process's users put what they finished, and what they need to judge
    it: the phase now, the run clock, the unsafe detector, the requests in flight."""

    def __init__(self, plan: LocustPlan, worker: int, origin: float) -> None:
        self.worker = worker
        self._origin = origin
        self._buffer: list[dict[str, Any]] = []
        self.detector = UnsafeDetector(plan.target_file().response.link_hosts)
        self.lessons = 0  # the number of the last lesson applied (gaplab.locust_load.lessons)
        self.in_flight: dict[str, InFlight] = {}
        self.phase = plan.phase
        self.sent = 0
        # What else goes to the lab with each batch (the open arrivals' counts and drops):
        # each gives a message, or None when it has nothing new.
        self.reporters: list[Callable[[bool], dict[str, Any] | None]] = []
        self._count_users: Callable[[], int] = lambda: 0
        self._beat_at = 0.0

    def now(self) -> float:
        return round(time.monotonic() - self._origin, 6)

    def send(
        self, event: UserRequestFinished, body: str | None = None, answer: str | None = None
    ) -> None:
        """Queue `event`; when it was not found unsafe, what it was judged on: the whole
        `body`, or the `answer` assembled from a stream (the lab judges it again if a
        lesson this process had not applied bears on it)."""
        data = event.to_dict()
        data["lessons"] = self.lessons
        if body:
            data["body"] = body
        if answer:
            data["answer"] = answer
        self._buffer.append(data)
        if len(self._buffer) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.sent += len(batch)
            self._deliver({"worker": self.worker, "events": batch})
        self.report_now()

    def report_now(self, final: bool = False) -> None:
        """Send what the reporters have to say (all of it when `final`)."""
        for reporter in self.reporters:
            message = reporter(final)
            if message is not None:
                self._deliver(message)

    def _deliver(self, message: dict[str, Any]) -> None:
        """Send one message to the lab (a batch carries its worker's number)."""
        raise NotImplementedError

    def abandon(self, pending: list[InFlight], now: float, sla: float) -> None:
        """As the built-in client does at the stop: the requests in flight that had already
        outlasted the SLA are errors (a hang must reach the evidence)."""
        unanswered = Verdict("error", "no answer by the end of the run")
        for flight in pending:
            if now - flight.started > sla:
                self.send(flight.finished(now, unanswered, 0))

    def apply(self, message: dict[str, Any]) -> None:
        """The lab's phase and lessons (the rest is the runner's business)."""
        if "phase" in message:
            self.phase = message["phase"]
        if "learn" in message:
            prompt, keys, emitted = message["learn"]
            self.detector.take(prompt, keys, emitted)
            self.lessons = max(self.lessons, int(message.get("lesson", 0)))

    def beat_with(self, count_users: Callable[[], int]) -> None:
        """Report this process's users (`count_users`) and requests in flight to the lab
        about every `BEAT` seconds, with the batches (the local runner and each worker)."""
        self._count_users = count_users
        self.reporters.append(self._beat)

    def _beat(self, final: bool) -> dict[str, Any] | None:
        now = time.monotonic()
        if now < self._beat_at and not final:
            return None
        self._beat_at = now + BEAT
        started = [f.started for f in list(self.in_flight.values())]
        beat = {
            "worker": self.worker,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "users": self._count_users(),
            "in_flight": len(started),
            "oldest": min(started, default=None),
        }
        return {"beat": beat}

    def flush_often(self) -> None:
        while True:
            gevent.sleep(FLUSH)
            self.flush()


class LabLink(Sink):
    """The process that talks to the lab: the local runner, or the master (which also
    passes on its workers' batches and the lab's messages)."""

    def __init__(self, plan: LocustPlan, worker: int = 0) -> None:
        super().__init__(plan, worker, plan.origin)
        self._socket = socket.create_connection((plan.lab_host, plan.lab_port), timeout=30)
        self._socket.settimeout(None)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._lines = self._socket.makefile("rb")
        self._writing = Semaphore()
        self.stop_sla: float | None = None
        self.stopped = Flag()
        self.on_users: Callable[[int], None] = lambda users: None
        self.on_message: Callable[[dict[str, Any]], None] = lambda message: None
        self._greenlets = [gevent.spawn(self._read), gevent.spawn(self.flush_often)]

    def hello(self, **facts: Any) -> None:
        self._write(encode({"hello": {"pid": os.getpid(), **facts}}))

    def tell(self, **facts: Any) -> None:
        self._write(encode(facts))

    def _deliver(self, message: dict[str, Any]) -> None:
        self._write(encode(message))

    def forward(self, batch: dict[str, Any]) -> None:
        """A worker's batch (`{"worker", "events"}`), as it came: not unpacked here."""
        self._write(encode(batch))

    def close(self) -> None:
        """Send what is left and say goodbye (the lab waits for it before it stops us)."""
        self.flush()
        self._write(encode({"bye": {"worker": self.worker, "sent": self.sent}}))
        for greenlet in self._greenlets:
            greenlet.kill(block=False)
        self._socket.close()

    def _write(self, data: bytes) -> None:
        with self._writing:
            try:
                self._socket.sendall(data)
            except OSError:
                self.stopped.set()  # the lab is gone: stop sending users

    def _read(self) -> None:
        try:
            for line in self._lines:
                message = decode(line)
                self.apply(message)
                self.on_message(message)
                if "users" in message:
                    self.on_users(int(message["users"]))
                if "stop" in message:
                    self.stop_sla = float(message["stop"])
                    self.stopped.set()
        except OSError:
            pass
        self.stopped.set()  # end of file: the lab stopped, or died (no orphans)


class WorkerLink(Sink):
    """A Locust worker's: its batches go to the master as Locust messages
    (`gaplab_events`), which passes them on to the lab unopened. Its clock is the lab's run
    clock as the master read it when it sent the plan (`now`), so a worker on another
    machine shares the run's time axis (to within the message's transit)."""

    def __init__(self, plan: LocustPlan, worker: int, lab_now: float, runner: Any) -> None:
        super().__init__(plan, worker, time.monotonic() - lab_now)
        self._runner = runner
        self.beat_with(lambda: int(runner.user_count))
        self._greenlets = [gevent.spawn(self.flush_often)]

    def _deliver(self, message: dict[str, Any]) -> None:
        self._runner.send_message("gaplab_events", message)

    def close(self) -> None:
        self.flush()
        self._runner.send_message("gaplab_bye", {"worker": self.worker, "sent": self.sent})
        for greenlet in self._greenlets:
            greenlet.kill(block=False)
