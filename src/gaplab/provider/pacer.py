"""One timer paces every open stream of a process: chunks go out on their schedule without
a sleeping task per chunk. At a thousand streams at 50 tokens/s the socket writes
themselves are most of the cost (see docs/provider.md, Performance), which is why the
provider can hand streams to worker processes that run this same pacer
(`gaplab.provider.pacer_pool`); the pacer keeps its own share small.

A stream hands the pacer its chunks with their due times (event-loop time). Streams wait
in a timer wheel of one-millisecond slots: a dict from slot number to the streams whose
next chunk falls in it, and a small heap of the occupied slot numbers. A single
`loop.call_at` callback wakes at the earliest occupied slot, writes every chunk due by then
straight to each transport, framed as HTTP/1.1 chunks as aiohttp's own writer would
(several due chunks of one stream go out in one write), files each stream under the
slot of its next chunk, and re-arms.

Hand-written because per-chunk `asyncio.sleep` costs a timer, a task step and a coroutine
resume per token, which was the provider's bottleneck under many concurrent streams; and
the wheel, not a heap of chunks, because a heap entry per chunk cost more than the rest of
the Python work (measured while writing this, 1,000 streams x 100 chunks on counting
transports: 10.4 us of CPU per chunk with the heap, 6.2 us with the wheel; `bench/provider.py
--only pacer` reports the current figure).
"""

from __future__ import annotations

import asyncio
import heapq
from array import array
from collections.abc import Mapping, Sequence
from itertools import accumulate
from time import monotonic
from typing import Protocol, cast

TICK = 0.001  # slot width (seconds): chunks due within one slot leave in the same wake-up
PAUSE = 0.01  # retry a stream whose client is not reading after this long
HIGH_WATER = 256 * 1024  # bytes buffered for a client before we wait for it
_BUCKET = 0.0005  # lateness histogram resolution (seconds)
_BUCKETS = 4000  # up to 2 s; later chunks land in the last bucket


class Writable(Protocol):
    """What the pacer needs of a transport (asyncio's, uvloop's, or a stream worker's)."""

    def write(self, data: bytes) -> None: ...

    def is_closing(self) -> bool: ...

    def get_write_buffer_size(self) -> int: ...


def open_writable(transport: object | None) -> Writable:
    """`transport` as the pacer writes to it; `ConnectionResetError` if it is gone.
    Duck-typed: uvloop's transports write the same way but do not subclass asyncio's."""
    writable = cast(Writable | None, transport)
    if writable is None or writable.is_closing():
        raise ConnectionResetError("client disconnected")
    return writable


def lateness_percentile(histogram: Mapping[int, int], fraction: float) -> float:
    """Seconds of lateness below which `fraction` of the chunks in `histogram` (lateness
    bucket -> chunks, as `StreamPacer.histogram` gives) left."""
    total = sum(histogram.values())
    if not total:
        return 0.0
    wanted, seen = fraction * total, 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= wanted:
            return (bucket + 1) * _BUCKET
    return _BUCKETS * _BUCKET


class _Job:
    __slots__ = ("blob", "dues", "ends", "future", "position", "transport")

    def __init__(
        self,
        transport: Writable,
        schedule: Schedule,
        future: asyncio.Future[None],
    ) -> None:
        self.transport = transport
        self.dues = schedule.dues
        self.ends = schedule.ends
        self.blob = schedule.blob
        self.position = 0
        self.future = future


class Schedule:
    """The chunks of one stream and when each is due, in three flat buffers: due times
    (event-loop time, ascending), all payloads end to end (each framed as an HTTP/1.1
    chunk), and where each ends.

    Flat because the garbage collector walks every element of every list on each full
    collection: a thousand 500-token streams as lists of (due, bytes) pairs made those
    collections pause the provider for 60 to 130 ms, arrays and one bytes object are
    invisible to it (and a run of due chunks is one slice, no join)."""

    __slots__ = ("_parts", "_size", "blob", "dues", "ends")

    def __init__(self) -> None:
        self.dues = array("d")
        self.ends = array("q")
        self._parts: list[bytes] = []
        self._size = 0
        self.blob = b""

    def add(self, due: float, data: bytes) -> None:
        self.extend((due,), (data,))

    def extend(self, dues: Sequence[float], payloads: Sequence[bytes]) -> None:
        """Add chunks (`payloads`, due at `dues`). Each is framed now as one HTTP/1.1 chunk,
        so any run of due chunks is one slice of the blob, written as it is (back-to-back
        chunks are valid chunked encoding)."""
        framed = [b"%x\r\n%b\r\n" % (len(data), data) for data in payloads]
        self.dues.extend(dues)
        self._parts.extend(framed)
        ends = list(accumulate(map(len, framed), initial=self._size))
        self._size = ends[-1]
        self.ends.extend(ends[1:])

    @classmethod
    def from_buffers(cls, dues: array[float], ends: array[int], blob: bytes) -> Schedule:
        """A sealed schedule from the three buffers of another one (as a stream worker
        receives them)."""
        schedule = cls()
        schedule.dues, schedule.ends, schedule.blob = dues, ends, blob
        return schedule

    def seal(self) -> Schedule:
        """Join the payloads; call once, after the last `add`."""
        self.blob = b"".join(self._parts)
        self._parts = []
        return self

    def __len__(self) -> int:
        return len(self.dues)


class StreamPacer:
    def __init__(self) -> None:
        self._slots: dict[int, list[_Job]] = {}
        self._occupied: list[int] = []  # heap of the keys of `_slots`
        self._timer: asyncio.TimerHandle | None = None
        self._timer_slot = 0
        self._firing = False  # while set, `_fire` re-arms the timer itself when it is done
        # How late each chunk left against its due time: the provider's own accuracy, so a
        # run (or the benchmark) can tell when the mock itself is falling behind.
        self._lateness = [0] * _BUCKETS
        self.chunks_sent = 0
        self.writes = 0

    def histogram(self) -> dict[int, int]:
        """Chunks sent so far by lateness bucket (`_BUCKET` seconds wide), non-empty only."""
        return {bucket: count for bucket, count in enumerate(self._lateness) if count}

    def lateness_percentile(self, fraction: float) -> float:
        """Seconds of lateness below which `fraction` of the chunks sent so far left."""
        return lateness_percentile(self.histogram(), fraction)

    async def send(self, transport: object | None, schedule: Schedule) -> None:
        """Write the chunks of a sealed `schedule` on time; returns when all are written.
        Raises `ConnectionResetError` when the client goes away first."""
        if not len(schedule):
            return
        loop = asyncio.get_running_loop()
        job = _Job(open_writable(transport), schedule, loop.create_future())
        self._file(loop, job, schedule.dues[0])
        try:
            await job.future
        finally:
            job.position = len(schedule)  # a cancelled stream's chunks are skipped

    def _file(self, loop: asyncio.AbstractEventLoop, job: _Job, due: float) -> None:
        slot = int(due / TICK)
        jobs = self._slots.get(slot)
        if jobs is None:
            self._slots[slot] = [job]
            heapq.heappush(self._occupied, slot)
            if not self._firing and (self._timer is None or slot < self._timer_slot):
                if self._timer is not None:
                    self._timer.cancel()
                self._arm(loop, slot)
        else:
            jobs.append(job)

    def _arm(self, loop: asyncio.AbstractEventLoop, slot: int) -> None:
        self._timer_slot = slot
        self._timer = loop.call_at(slot * TICK, self._fire, loop)

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        horizon = now + TICK
        current = int(horizon / TICK)
        # Loop time of each write, from the system's monotonic clock: one wake-up can take
        # milliseconds, and a chunk written at its end must count as that much later.
        offset = now - monotonic()
        occupied, slots = self._occupied, self._slots
        lateness, flush = self._lateness, self._flush
        self._firing = True
        try:
            while occupied and occupied[0] <= current:
                for job in slots.pop(heapq.heappop(occupied)):
                    flush(loop, job, offset, horizon, lateness)
        finally:
            self._firing = False
            if occupied:
                self._arm(loop, occupied[0])

    def _flush(
        self,
        loop: asyncio.AbstractEventLoop,
        job: _Job,
        offset: float,
        horizon: float,
        lateness: list[int],
    ) -> None:
        dues, start = job.dues, job.position
        count = len(dues)
        if start >= count:  # finished or cancelled while it waited
            return
        transport = job.transport
        if transport.is_closing():
            job.position = count
            if not job.future.done():
                job.future.set_exception(ConnectionResetError("client disconnected"))
            return
        if transport.get_write_buffer_size() > HIGH_WATER:
            self._file(loop, job, horizon + PAUSE)
            return
        end = start + 1
        while end < count and dues[end] <= horizon:
            end += 1
        # The first chunk of a write is its latest; its lateness stands for the batch.
        now = monotonic() + offset
        late = int((now - dues[start]) / _BUCKET) if now > dues[start] else 0
        lateness[late if late < _BUCKETS else _BUCKETS - 1] += end - start
        self.chunks_sent += end - start
        self.writes += 1
        ends = job.ends
        transport.write(job.blob[ends[start - 1] if start else 0 : ends[end - 1]])
        job.position = end
        if end == count:
            if not job.future.done():
                job.future.set_result(None)
        else:
            self._file(loop, job, dues[end])
