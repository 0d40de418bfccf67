"""What each toxic does to the bytes of one link, after Toxiproxy's `toxics/*.go`.

A `Stage` is one toxic on one link (one connection, one direction): a task that takes
chunks stamped with their arrival time from its inbox and emits them to the next stage or
to the link's writer. `None` in the stream is the end of the stream (the source closed).
Toxicity is drawn once per stage when it starts or is updated, from the proxy's seeded RNG.
On interrupt (update or removal) a stage forwards whatever it holds, like Toxiproxy's
"don't drop any data on the floor".
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from gaplab.netfault.toxics import ToxicSpec

MS = 0.001


@dataclass
class Chunk:
    data: bytes
    stamp: float  # loop time when the proxy read it; latency is measured from here


Item = Chunk | None  # None: end of stream


class LinkLike(Protocol):
    rng: random.Random

    def deliver(self, item: Item) -> None: ...
    def reset_connection(self, after: float) -> None: ...
    def dequeued(self) -> None: ...


class Stage:
    """One toxic running on one link."""

    def __init__(self, link: LinkLike, spec: ToxicSpec) -> None:
        self.link = link
        self.spec = spec
        self.next: Stage | None = None
        self.inbox: deque[Item] = deque()
        self.queued_bytes = 0
        self.holding: list[Item] = []
        self.closed = False  # output closed: nothing more flows through this stage
        self.limit_sent = 0  # limit_data state survives updates, as Toxiproxy's StatefulToxic
        self.active = False
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- plumbing -----------------------------------------------------------------------
    def draw(self) -> None:
        """Toxiproxy's per-link toxicity: one draw decides toxic or noop for this link."""
        self.active = self.link.rng.random() < self.spec.toxicity

    def run(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    def kill(self) -> None:
        """The connection is gone: stop without forwarding anything."""
        if self._task is not None:
            self.closed = True
            self._task.cancel()

    async def restart(self, spec: ToxicSpec) -> None:
        """A toxic update: the new attributes and a new toxicity draw, as Toxiproxy does."""
        await self.interrupt()
        self.spec = spec
        if not self.closed:
            self.draw()
            self.run()

    async def interrupt(self) -> None:
        """Stop the running toxic; what it held is forwarded downstream."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    def put(self, item: Item) -> None:
        if self.closed:
            return
        self.inbox.append(item)
        if item is not None:
            self.queued_bytes += len(item.data)
        self._ready.set()

    def take_inbox(self) -> list[Item]:
        items = list(self.inbox)
        self.inbox.clear()
        self.queued_bytes = 0
        self.link.dequeued()
        return items

    def emit(self, item: Item) -> None:
        if self.next is not None:
            self.next.put(item)
        else:
            self.link.deliver(item)

    def close_output(self) -> None:
        if not self.closed:
            self.closed = True
            self.inbox.clear()
            self.emit(None)

    async def get(self) -> Item:
        while not self.inbox:
            self._ready.clear()
            await self._ready.wait()
        item = self.inbox.popleft()
        if item is not None:
            self.queued_bytes -= len(item.data)
            self.link.dequeued()
        return item

    async def _run(self) -> None:
        behaviour = BEHAVIOURS[self.spec.type] if self.active else _noop
        try:
            await behaviour(self)
        except asyncio.CancelledError:
            held, self.holding = self.holding, []
            for item in held:
                if item is None:
                    self.close_output()
                elif not self.closed:
                    self.emit(item)
            raise


# -- behaviours ---------------------------------------------------------------------------
async def _noop(stage: Stage) -> None:
    while True:
        item = await stage.get()
        stage.emit(item)
        if item is None:
            stage.closed = True
            return


async def _latency(stage: Stage) -> None:
    loop = asyncio.get_running_loop()
    latency, jitter = stage.spec.attr("latency"), stage.spec.attr("jitter")
    while True:
        item = await stage.get()
        if item is None:
            stage.close_output()
            return
        delay_ms = latency + (stage.link.rng.randrange(2 * jitter) - jitter if jitter > 0 else 0)
        sleep = delay_ms * MS - (loop.time() - item.stamp)
        if sleep > 0:
            stage.holding = [item]
            await asyncio.sleep(sleep)
            stage.holding = []
            item.stamp += sleep
        stage.emit(item)


async def _bandwidth(stage: Stage) -> None:
    loop = asyncio.get_running_loop()
    rate = stage.spec.attr("rate")  # KB/s, so len/rate is milliseconds
    budget = 0.0
    while True:
        item = await stage.get()
        if item is None:
            stage.close_output()
            return
        budget = 0.0 if rate <= 0 else budget + len(item.data) / rate * MS
        slice_size = rate * 100  # what 100 ms of this rate carries
        stage.holding = [item]
        while rate > 0 and len(item.data) > slice_size:
            await asyncio.sleep(0.1)
            stage.emit(Chunk(item.data[:slice_size], item.stamp))
            item.data = item.data[slice_size:]
            budget -= 0.1
        started = loop.time()
        if budget > 0:
            await asyncio.sleep(budget)
        budget -= loop.time() - started  # carry the timer's error into the next sleep
        stage.holding = []
        stage.emit(item)


async def _slow_close(stage: Stage) -> None:
    while True:
        item = await stage.get()
        if item is None:
            stage.holding = [None]
            await asyncio.sleep(stage.spec.attr("delay") * MS)
            stage.holding = []
            stage.close_output()
            return
        stage.emit(item)


async def _timeout(stage: Stage) -> None:
    # Swallows everything; closes `timeout` ms after the last chunk, or never when 0.
    timeout = stage.spec.attr("timeout") * MS
    while True:
        try:
            item = await (asyncio.wait_for(stage.get(), timeout) if timeout > 0 else stage.get())
        except TimeoutError:
            stage.close_output()
            return
        if item is None:
            stage.close_output()
            return


async def _reset_peer(stage: Stage) -> None:
    # Fires on the first chunk, not on an idle connection; once armed it cannot be called off.
    item = await stage.get()
    if item is None:
        stage.close_output()
        return
    stage.closed = True
    stage.inbox.clear()
    stage.link.reset_connection(stage.spec.attr("timeout") * MS)


def slice_bounds(
    start: int, end: int, average: int, variation: int, rng: random.Random
) -> list[int]:
    """Toxiproxy's slicer: bisect around the midpoint ± variation until pieces are ~average."""
    # Pieces of one byte stop the recursion (Toxiproxy recurses forever on average_size 0).
    if end - start <= 1 or (end - start) - average <= variation:
        return [start, end]
    mid = start + (end - start) // 2
    if variation > 0:
        mid += rng.randrange(variation * 2) - variation
    return slice_bounds(start, mid, average, variation, rng) + slice_bounds(
        mid, end, average, variation, rng
    )


async def _slicer(stage: Stage) -> None:
    average, variation = stage.spec.attr("average_size"), stage.spec.attr("size_variation")
    delay = stage.spec.attr("delay") * 1e-6  # microseconds, unlike every other toxic
    while True:
        item = await stage.get()
        if item is None:
            stage.close_output()
            return
        bounds = slice_bounds(0, len(item.data), average, variation, stage.link.rng)
        for i in range(1, len(bounds), 2):
            stage.emit(Chunk(item.data[bounds[i - 1] : bounds[i]], item.stamp))
            rest = item.data[bounds[i] :]
            if rest:
                stage.holding = [Chunk(rest, item.stamp)]
            await asyncio.sleep(delay)
            stage.holding = []


async def _limit_data(stage: Stage) -> None:
    limit = stage.spec.attr("bytes")
    while True:
        item = await stage.get()
        if item is None:
            stage.close_output()
            return
        remaining = max(limit - stage.limit_sent, 0)
        if remaining < len(item.data):
            item = Chunk(item.data[:remaining], item.stamp)
        if item.data:
            stage.emit(item)
            stage.limit_sent += len(item.data)
        if limit - stage.limit_sent <= 0:
            stage.close_output()
            return


BEHAVIOURS: dict[str, Callable[[Stage], Awaitable[None]]] = {
    "noop": _noop,
    "latency": _latency,
    "bandwidth": _bandwidth,
    "slow_close": _slow_close,
    "timeout": _timeout,
    "reset_peer": _reset_peer,
    "slicer": _slicer,
    "limit_data": _limit_data,
}
