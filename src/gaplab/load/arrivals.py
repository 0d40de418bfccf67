"""Open-model load: requests start on the arrival plan's schedule whatever the target does.

- Arrivals are scheduled on absolute times (timeline origin + planned offset), so a late
  wake-up never shifts later arrivals. When the loop was briefly late, the arrivals that
  fell due meanwhile start at once (catch-up), up to `MAX_BEHIND`; an arrival later than
  that is *missed* (counted, not sent: a burst of many seconds of traffic at once is a
  load the scenario never asked for, and the lab monitor ends such a run anyway).
- How late each arrival started against its plan is its **schedule slip**, reported to
  `on_slip` (the lab monitor, gaplab.engine.monitor).
- An arrival that would exceed `max_in_flight` requests in flight is not started and is
  counted as **dropped**, per phase; drops are published as `ArrivalsDropped` events in
  batches (at most about one a second per phase), so a saturated target cannot flood the
  journal.
- Arrival n is sent as user `n % users`, whose inputs come from that user's seeded
  `UserStream`: the same seed gives every user the same sequence of inputs, whatever the
  timing (a dropped arrival does not consume an input).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from gaplab.engine.clock import Clock
from gaplab.engine.events import ArrivalsDropped, Event
from gaplab.load.arrival_plan import ArrivalPlan
from gaplab.load.client import RequestClient
from gaplab.load.inputs import InputMix, UserStream

MAX_BEHIND = 5.0  # seconds: later arrivals are missed, not sent in a burst
CATCH_UP_BATCH = 64  # arrivals started between yields to the loop while catching up
DROP_REPORT_EVERY = 1.0  # seconds between ArrivalsDropped batches


@dataclass
class ArrivalCounts:
    """What became of the arrivals due so far."""

    planned: int = 0  # due by now
    started: int = 0
    dropped: int = 0  # max_in_flight was reached
    missed: int = 0  # the lab was more than MAX_BEHIND late
    in_flight: int = 0


class OpenArrivals:
    def __init__(
        self,
        client: RequestClient,
        mix: InputMix,
        plan: ArrivalPlan,
        *,
        users: int,
        max_in_flight: int,
        clock: Clock,
        publish: Callable[[Event], None],
        current_phase: Callable[[], str],
        on_slip: Callable[[float], None] | None = None,
        max_behind: float = MAX_BEHIND,
    ) -> None:
        self._client = client
        self._max_behind = max_behind
        self._mix = mix
        self._plan = plan
        self._users = users
        self._max_in_flight = max_in_flight
        self._clock = clock
        self._publish = publish
        self._phase = current_phase
        self._on_slip = on_slip
        self.counts = ArrivalCounts()
        self._streams: dict[int, UserStream] = {}
        self._sequence: Counter[int] = Counter()
        self._requests: set[asyncio.Task[None]] = set()
        self._unreported: Counter[str] = Counter()  # phase -> drops not yet published
        self._reported_at = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self, origin: float) -> None:
        """Start arriving on the plan, counted from `origin` (run clock)."""
        self._reported_at = origin
        self._task = asyncio.create_task(self._arrive(origin))

    async def _arrive(self, origin: float) -> None:
        clock, counts = self._clock, self.counts
        behind = 0
        for n, offset in enumerate(self._plan.offsets()):
            due = origin + offset
            wait = due - clock.now()
            if wait > 0:
                behind = 0
                await asyncio.sleep(wait)
            else:
                behind += 1
                if behind % CATCH_UP_BATCH == 0:
                    await asyncio.sleep(0)  # let answers in while catching up
            counts.planned += 1
            now = clock.now()
            if now - due > self._max_behind:
                counts.missed += 1
            elif counts.in_flight >= self._max_in_flight:
                counts.dropped += 1
                self._unreported[self._phase()] += 1
            else:
                counts.started += 1
                counts.in_flight += 1
                task = asyncio.create_task(self._request(n, due))
                self._requests.add(task)
                task.add_done_callback(self._requests.discard)
            if self._unreported and now - self._reported_at >= DROP_REPORT_EVERY:
                self.report_drops()

    async def _request(self, n: int, due: float) -> None:
        try:
            if self._on_slip is not None:
                self._on_slip(max(0.0, self._clock.now() - due))
            index = n % self._users
            stream = self._streams.get(index)
            if stream is None:
                stream = self._streams[index] = self._mix.stream(index)
            self._sequence[index] += 1
            user = f"user-{index:04d}"
            request_id = f"{user}-{self._sequence[index]:06d}"
            await self._client.ask(index, user, request_id, stream.next(), self._phase())
        finally:
            self.counts.in_flight -= 1

    def report_drops(self) -> None:
        """Publish the drops counted since the last report, one event per phase."""
        now = self._clock.now()
        for phase, count in self._unreported.items():
            self._publish(ArrivalsDropped(t=now, phase=phase, count=count))
        self._unreported.clear()
        self._reported_at = now

    async def stop(self) -> None:
        """Stop arriving and cancel the requests in flight; publish the last drops."""
        tasks = [t for t in (self._task, *self._requests) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.report_drops()
