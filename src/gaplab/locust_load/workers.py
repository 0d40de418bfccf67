"""Each Locust worker's share and health, as the lab sees them (`--load locust`).

Every worker (the local runner is worker 0) reports about twice a second the users it
runs and has in flight (`{"beat": ...}` on the channel, through the master); its
finished requests come in batches. From those the book makes the `LoadWorkers` snapshot
the lab journals about once a second: per worker its requests and share, its users,
seconds since its last batch and report, and its state: `ok`, `late` (no report for
`LATE_AFTER` seconds: Locust's own heartbeat liveness) or `lost` (its process exited,
or its master stopped hearing from it). A lost worker is a `LoadWorkerLost` event;
within the scenario's `load.locust.allow_lost_workers` the run goes on (the master moves
its users to the remaining workers), past it the run is incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass

from gaplab.engine.events import LoadWorkerLost, LoadWorkers, WorkerShare

LATE_AFTER = 3.0  # seconds without a report: Locust's heartbeat liveness (3 × 1 s)


@dataclass
class _Worker:
    number: int
    seen: float  # when the lab first heard of it
    pid: int | None = None
    host: str = ""
    finished: int = 0
    users: int = 0
    in_flight: int = 0
    oldest: float | None = None  # when its oldest request in flight started (run clock)
    last_batch: float | None = None
    last_report: float | None = None
    lost: LoadWorkerLost | None = None


class WorkerBook:
    """What the lab knows of its Locust workers; no I/O (the `LocustLoad` feeds it)."""

    def __init__(self, allowed_lost: int = 0, *, arrivals: bool = False) -> None:
        """`arrivals`: open arrivals, which are split across the workers and not moved."""
        self.allowed_lost = allowed_lost
        self.arrivals = arrivals
        self._workers: dict[int, _Worker] = {}

    def _get(self, number: int, now: float) -> _Worker:
        worker = self._workers.get(number)
        if worker is None:
            worker = self._workers[number] = _Worker(number, now)
        return worker

    def met(self, number: int, now: float, pid: int | None = None, host: str = "") -> None:
        """A worker said who it is (ready, or in a report)."""
        worker = self._get(number, now)
        worker.pid = pid if pid is not None else worker.pid
        worker.host = host or worker.host

    def reported(
        self,
        number: int,
        now: float,
        *,
        users: int,
        in_flight: int,
        oldest: float | None,
        pid: int | None = None,
        host: str = "",
    ) -> None:
        self.met(number, now, pid, host)
        worker = self._workers[number]
        if worker.lost is not None:
            return  # a late message from a worker already counted lost
        worker.users, worker.in_flight, worker.oldest = users, in_flight, oldest
        worker.last_report = now

    def finished(self, number: int, count: int, now: float) -> None:
        worker = self._get(number, now)
        worker.finished += count
        worker.last_batch = now

    def by_pid(self, pid: int) -> int | None:
        return next((w.number for w in self._workers.values() if w.pid == pid), None)

    def lose(self, number: int, reason: str, phase: str, now: float) -> LoadWorkerLost | None:
        """Count worker `number` lost (None when it already was): allowed while the lost
        ones are within the allowance and one worker at least remains."""
        worker = self._get(number, now)
        if worker.lost is not None:
            return None
        running = [w for w in self._workers.values() if w.lost is None and w is not worker]
        lost_before = sum(1 for w in self._workers.values() if w.lost is not None)
        allowed = lost_before + 1 <= self.allowed_lost and bool(running)
        worker.lost = LoadWorkerLost(
            t=now,
            worker=number,
            pid=worker.pid,
            host=worker.host,
            phase=phase,
            reason=reason,
            users=worker.users,
            remaining=len(running),
            allowed=allowed,
            moved=allowed and not self.arrivals,
            arrivals=self.arrivals,
        )
        worker.users = worker.in_flight = 0
        worker.oldest = None
        return worker.lost

    @property
    def lost(self) -> list[LoadWorkerLost]:
        return sorted(
            (w.lost for w in self._workers.values() if w.lost is not None), key=lambda e: e.t
        )

    def in_flight(self) -> tuple[int, float | None]:
        """The Locust users' requests in flight, and when the oldest of them started, as
        the running workers last reported them."""
        running = [w for w in self._workers.values() if w.lost is None]
        oldest = min((w.oldest for w in running if w.oldest is not None), default=None)
        return sum(w.in_flight for w in running), oldest

    def snapshot(self, now: float, *, final: bool = False) -> LoadWorkers:
        total = sum(w.finished for w in self._workers.values())
        shares = []
        for worker in sorted(self._workers.values(), key=lambda w: w.number):
            heard = worker.last_report if worker.last_report is not None else worker.seen
            state = (
                "lost"
                if worker.lost is not None
                else "late"
                if not final and now - heard > LATE_AFTER
                else "ok"
            )
            shares.append(
                WorkerShare(
                    worker=worker.number,
                    pid=worker.pid,
                    host=worker.host,
                    finished=worker.finished,
                    share=round(worker.finished / total, 4) if total else 0.0,
                    users=worker.users,
                    in_flight=worker.in_flight,
                    since_batch=_since(now, worker.last_batch),
                    since_report=_since(now, worker.last_report),
                    state=state,
                )
            )
        return LoadWorkers(
            t=now, workers=tuple(shares), allowed_lost=self.allowed_lost, final=final
        )


def _since(now: float, then: float | None) -> float | None:
    return None if then is None else round(max(0.0, now - then), 3)
