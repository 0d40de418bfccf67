"""A Locust process's end of the channel to the lab (`gaplab.locust_load.channel`).

Runs under gevent (a Locust process); sends finished requests in batches from a flusher
greenlet, and applies what the lab says: the phase now, the number of users, what its
unsafe detector learned, stop. The run clock is the lab's: `now()` counts from the
`time.monotonic()` the lab gave as its origin (the same clock on one machine).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent.event import Event as Flag
from gevent.lock import Semaphore

from gaplab.engine.events import UserRequestFinished
from gaplab.load.client import InFlight
from gaplab.locust_load.channel import BATCH, FLUSH, decode, encode, events_message
from gaplab.locust_load.plan import LocustPlan
from gaplab.target.classify import Verdict
from gaplab.target.unsafe import UnsafeDetector


class LabLink:
    def __init__(self, plan: LocustPlan, worker: int) -> None:
        self.worker = worker
        self._origin = plan.origin
        self._socket = socket.create_connection((plan.lab_host, plan.lab_port), timeout=30)
        self._socket.settimeout(None)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._lines = self._socket.makefile("rb")
        self._writing = Semaphore()
        self._buffer: list[UserRequestFinished] = []
        self.detector = UnsafeDetector(plan.target_file().response.link_hosts)
        self.in_flight: dict[str, InFlight] = {}
        self.phase = plan.phase
        self.sent = 0
        self.stop_sla: float | None = None
        self.stopped = Flag()
        self.on_users: Callable[[int], None] = lambda users: None
        self._write(encode({"hello": {"worker": worker, "pid": _pid()}}))
        self._greenlets = [gevent.spawn(self._read), gevent.spawn(self._flush_often)]

    def now(self) -> float:
        return round(time.monotonic() - self._origin, 6)

    def send(self, event: UserRequestFinished) -> None:
        self._buffer.append(event)
        if len(self._buffer) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.sent += len(batch)
            self._write(events_message(batch))

    def abandon(self, pending: list[InFlight], now: float, sla: float) -> None:
        """As the built-in client does at the stop: the requests in flight that had already
        outlasted the SLA are errors (a hang must reach the evidence)."""
        unanswered = Verdict("error", "no answer by the end of the run")
        for flight in pending:
            if now - flight.started > sla:
                self.send(flight.finished(now, unanswered, 0))

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

    def _flush_often(self) -> None:
        while True:
            gevent.sleep(FLUSH)
            self.flush()

    def _read(self) -> None:
        try:
            for line in self._lines:
                self._apply(decode(line))
        except OSError:
            pass
        self.stopped.set()  # end of file: the lab stopped, or died (no orphans)

    def _apply(self, message: dict[str, Any]) -> None:
        if "phase" in message:
            self.phase = message["phase"]
        if "learn" in message:
            prompt, keys, emitted = message["learn"]
            self.detector.take(prompt, keys, emitted)
        if "users" in message:
            self.on_users(int(message["users"]))
        if "stop" in message:
            self.stop_sla = float(message["stop"])
            self.stopped.set()


def _pid() -> int:
    import os

    return os.getpid()
