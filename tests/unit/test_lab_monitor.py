"""The lab monitor on a real event loop: a loop kept busy ends the watched work as a lab
error naming the figure; a healthy loop does not; slip past its limit does too."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from gaplab.engine.clock import MonotonicClock
from gaplab.engine.events import Event, LabHealth
from gaplab.engine.monitor import LabMonitor, OverloadLimits
from gaplab.errors import LabError
from gaplab.load.arrivals import ArrivalCounts

QUICK = OverloadLimits(window=1.0, report_every=0.2)


async def _busy_loop() -> None:
    while True:
        time.sleep(0.3)  # noqa: ASYNC251  (on purpose: callbacks that hog the loop)
        await asyncio.sleep(0)


async def test_a_hogged_loop_ends_the_work_as_an_overloaded_lab() -> None:
    events: list[Event] = []
    monitor = LabMonitor(MonotonicClock(), events.append, load_model="closed", limits=QUICK)
    monitor.start()
    started = time.monotonic()
    with pytest.raises(LabError) as caught:
        await monitor.watch(_busy_loop())
    await monitor.stop()
    assert time.monotonic() - started < 3.0
    message = str(caught.value)
    found = re.fullmatch(
        r"the lab is overloaded: event-loop lag p99 ([\d,]+) ms over the last 1 s "
        r"\(limit 250 ms\); lower users or arrival rate",
        message,
    )
    assert found, message
    assert int(found.group(1).replace(",", "")) >= 250
    health = [e for e in events if isinstance(e, LabHealth)]
    assert health and health[-1].window_lag_p99 is not None and health[-1].window_lag_p99 > 0.25


async def test_a_healthy_loop_finishes_the_work_and_reports_small_lag() -> None:
    events: list[Event] = []
    monitor = LabMonitor(MonotonicClock(), events.append, load_model="closed", limits=QUICK)
    monitor.start()
    assert await monitor.watch(asyncio.sleep(1.5, result="done")) == "done"
    await monitor.stop()
    monitor.publish_final()
    health = [e for e in events if isinstance(e, LabHealth)]
    assert len(health) >= 5 and health[-1].final
    final = health[-1]
    assert final.run_lag_p99 is not None and final.run_lag_p99 < 0.05
    assert final.run_slip_p50 is None  # closed users: no schedule


async def test_a_lone_pause_of_the_loop_does_not_trip_the_p99() -> None:
    """A 300 ms pause in a 2 s window (a long garbage collection): the p99 of ~190 samples
    leaves the late one out (in the 5 s window of a run, ~500 samples leave out four)."""
    events: list[Event] = []
    limits = OverloadLimits(window=2.0, report_every=0.2)
    monitor = LabMonitor(MonotonicClock(), events.append, load_model="closed", limits=limits)
    monitor.start()

    async def paused_once() -> str:
        await asyncio.sleep(1.0)
        time.sleep(0.3)  # noqa: ASYNC251  (on purpose: one long callback)
        await asyncio.sleep(1.5)  # judged from 2 s on: the pause is in the window until 3.3 s
        return "finished"

    assert await monitor.watch(paused_once()) == "finished"
    await monitor.stop()
    health = [e for e in events if isinstance(e, LabHealth)]
    assert health[-1].run_lag_max is not None and health[-1].run_lag_max > 0.25
    judged = [h for h in health if h.t >= 2.0]  # once a whole window was watched
    assert judged and all(h.window_lag_p99 is not None and h.window_lag_p99 < 0.25 for h in judged)


async def test_arrivals_far_behind_schedule_end_the_work() -> None:
    counts = ArrivalCounts(planned=100, started=90, dropped=10)
    monitor = LabMonitor(
        MonotonicClock(), [].append, load_model="open", counts=lambda: counts, limits=QUICK
    )
    monitor.start()

    async def late_arrivals() -> None:
        while True:
            monitor.record_slip(1.8)
            await asyncio.sleep(0.01)

    with pytest.raises(LabError, match=r"arrivals started 1,800 ms behind schedule \(median\)"):
        await monitor.watch(late_arrivals())
    await monitor.stop()
    health = monitor.health(MonotonicClock().now())
    assert (health.arrivals_planned, health.arrivals_dropped) == (100, 10)


async def test_work_that_fails_raises_its_own_error_and_cancelling_cancels_it() -> None:
    monitor = LabMonitor(MonotonicClock(), [].append, load_model="closed", limits=QUICK)
    monitor.start()

    async def broken() -> None:
        raise LabError("the target refused")

    with pytest.raises(LabError, match="the target refused"):
        await monitor.watch(broken())
    inner = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            inner.set()

    watcher = asyncio.ensure_future(monitor.watch(forever()))
    await asyncio.sleep(0.05)
    watcher.cancel()
    with pytest.raises(asyncio.CancelledError):
        await watcher
    assert inner.is_set()
    await monitor.stop()
