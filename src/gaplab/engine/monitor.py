"""The lab watching itself: is the lab, not the target, the bottleneck?

Two figures, both measured on the lab's own event loop:
- **loop lag**: how late a periodic timer (every `tick`) fires. A loop that is busy with
  more callbacks than it can run makes every timer, every request send and every answer
  read late alike, so every latency the lab measures is inflated by it.
- **schedule slip** (open arrivals): how late each arrival started against its plan.

About once a second the monitor publishes a `LabHealth` event (window and run figures).
Once it has watched for a whole window it checks the limits, and `watch()` ends the run
with a `LabError` (exit 3) naming the figure, never as the target's failure:

    the lab is overloaded: event-loop lag p99 612 ms over the last 5 s (limit 250 ms);
    lower users or arrival rate

The limits (docs/concepts.md) come from measurements on the 2-core reference machine:
normal bundled runs show a loop-lag p99 of a few ms to a few tens of ms and a slip p50
under a few ms, while 10,000 closed users show lag p99 of seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from gaplab.engine.clock import Clock
from gaplab.engine.events import Event, LabHealth
from gaplab.errors import LabError
from gaplab.load.arrivals import ArrivalCounts
from gaplab.metrics.latency import LatencyRecorder
from gaplab.metrics.window import SlidingWindow

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class OverloadLimits:
    window: float = 5.0  # seconds the limits are judged over
    loop_lag_p99: float = 0.25  # seconds
    slip_p50: float = 1.0  # seconds: half the arrivals of the window started this late
    # Seconds between loop-lag samples: ~500 in a 5 s window, so the p99 leaves out the
    # four latest, and a few pauses of the loop (a full garbage collection) cannot trip it;
    # 100 wake-ups a second cost the loop about 0.2 % of a core.
    tick: float = 0.01
    report_every: float = 1.0  # seconds between LabHealth events


class LabMonitor:
    def __init__(
        self,
        clock: Clock,
        publish: Callable[[Event], None],
        *,
        load_model: str,
        counts: Callable[[], ArrivalCounts | None] = lambda: None,
        limits: OverloadLimits | None = None,
    ) -> None:
        self._clock = clock
        self._publish = publish
        self.load_model = load_model
        self.counts = counts
        self.limits = limits or OverloadLimits()
        self._lag = SlidingWindow(self.limits.window)
        self._slip = SlidingWindow(self.limits.window)
        self._run_lag = LatencyRecorder()
        self._run_slip = LatencyRecorder()
        self._task: asyncio.Task[None] | None = None
        self._tripped: asyncio.Future[str] | None = None

    def start(self) -> None:
        self._tripped = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._sample())

    def record_slip(self, seconds: float) -> None:
        """How late one arrival started against its plan (the load generator calls this)."""
        self._slip.record(self._clock.now(), seconds)
        self._run_slip.record(seconds)

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        limits = self.limits
        started = self._clock.now()
        next_report = started + limits.report_every
        while True:
            before = loop.time()
            await asyncio.sleep(limits.tick)
            lag = max(0.0, loop.time() - before - limits.tick)
            now = self._clock.now()
            self._lag.record(now, lag)
            self._run_lag.record(lag)
            if now < next_report:
                continue
            next_report = now + limits.report_every
            try:
                health = self.health(now)
                self._publish(health)
                if now - started >= limits.window:
                    self._judge(health)
            except Exception:  # the monitor must never be what breaks a run
                log.exception("lab monitor failed")

    def health(self, now: float, *, final: bool = False) -> LabHealth:
        lag50, lag99 = self._lag.percentiles(now, 50, 99)
        slip50, slip99 = self._slip.percentiles(now, 50, 99)
        run_lag, run_slip = self._run_lag.summary(), self._run_slip.summary()
        counts = self.counts() or ArrivalCounts()
        return LabHealth(
            t=now,
            load_model=self.load_model,
            window=self.limits.window,
            window_lag_p50=lag50,
            window_lag_p99=lag99,
            window_slip_p50=slip50,
            window_slip_p99=slip99,
            run_lag_p50=run_lag.p50,
            run_lag_p99=run_lag.p99,
            run_lag_max=run_lag.max,
            run_slip_p50=run_slip.p50,
            run_slip_p99=run_slip.p99,
            run_slip_max=run_slip.max,
            arrivals_planned=counts.planned,
            arrivals_started=counts.started,
            arrivals_dropped=counts.dropped,
            arrivals_missed=counts.missed,
            in_flight=counts.in_flight,
            final=final,
        )

    def _judge(self, health: LabHealth) -> None:
        limits, window = self.limits, f"{self.limits.window:g} s"
        problem = None
        if health.window_lag_p99 is not None and health.window_lag_p99 > limits.loop_lag_p99:
            problem = (
                f"event-loop lag p99 {health.window_lag_p99 * 1000:,.0f} ms over the last "
                f"{window} (limit {limits.loop_lag_p99 * 1000:,.0f} ms)"
            )
        elif health.window_slip_p50 is not None and health.window_slip_p50 > limits.slip_p50:
            problem = (
                f"arrivals started {health.window_slip_p50 * 1000:,.0f} ms behind schedule "
                f"(median) over the last {window} (limit {limits.slip_p50 * 1000:,.0f} ms)"
            )
        if problem is not None and self._tripped is not None and not self._tripped.done():
            self._tripped.set_result(
                f"the lab is overloaded: {problem}; lower users or arrival rate"
            )

    async def watch(self, work: Awaitable[T]) -> T:
        """Await `work`; if the limits are exceeded first, cancel it and raise `LabError`."""
        assert self._tripped is not None, "start() the monitor first"
        task = asyncio.ensure_future(work)
        waited: set[asyncio.Future[object]] = {task, self._tripped}  # type: ignore[arg-type]
        try:
            await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise LabError(self._tripped.result())

    async def stop(self) -> None:
        """Stop sampling (at the end of the timeline: teardown is not the run's load)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def publish_final(self) -> None:
        """The run's figures, once the users have stopped (drops and counts are final)."""
        self._publish(self.health(self._clock.now(), final=True))
