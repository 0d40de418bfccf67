"""One timer paces every open stream: chunks go out on their schedule without a sleeping
task per chunk, so a thousand streams at 50 tokens/s stay on time on one core.

A stream hands the pacer its chunks with their due times (event-loop time). A single
`loop.call_at` callback wakes at the earliest due time, writes every chunk due by then
(plus a millisecond of slack, so neighbours coalesce) straight to each transport, framed
for HTTP/1.1 chunked encoding as aiohttp's own writer would, and re-arms for the next one.
Hand-written because per-chunk `asyncio.sleep` costs a timer, a task step and a coroutine
resume per token, which was the provider's bottleneck under many concurrent streams.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Sequence
from typing import cast

SLACK = 0.001  # send chunks due within this much of now in the same wake-up
PAUSE = 0.01  # retry a stream whose client is not reading after this long
HIGH_WATER = 256 * 1024  # bytes buffered for a client before we wait for it
_BUCKET = 0.0005  # lateness histogram resolution (seconds)
_BUCKETS = 4000  # up to 2 s; later chunks land in the last bucket


class _Job:
    __slots__ = ("chunks", "done", "future", "position", "transport")

    def __init__(
        self,
        transport: asyncio.BaseTransport,
        chunks: Sequence[tuple[float, bytes]],
        future: asyncio.Future[None],
    ) -> None:
        self.transport = transport
        self.chunks = chunks
        self.position = 0
        self.future = future
        self.done = False

    @property
    def next_due(self) -> float:
        return self.chunks[self.position][0]


class StreamPacer:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Job]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        # How late each chunk left against its due time: the provider's own accuracy, so a
        # run (or the benchmark) can tell when the mock itself is falling behind.
        self._lateness = [0] * _BUCKETS
        self.chunks_sent = 0

    def lateness_percentile(self, fraction: float) -> float:
        """Seconds of lateness below which `fraction` of the chunks sent so far left."""
        if not self.chunks_sent:
            return 0.0
        wanted, seen = fraction * self.chunks_sent, 0
        for bucket, count in enumerate(self._lateness):
            seen += count
            if seen >= wanted:
                return (bucket + 1) * _BUCKET
        return _BUCKETS * _BUCKET

    async def send(
        self, transport: asyncio.BaseTransport | None, chunks: Sequence[tuple[float, bytes]]
    ) -> None:
        """Write `chunks` (due time, payload) on schedule; returns when all are written.
        Raises `ConnectionResetError` when the client goes away first."""
        if not chunks:
            return
        if transport is None or transport.is_closing():
            raise ConnectionResetError("client disconnected")
        loop = asyncio.get_running_loop()
        job = _Job(transport, chunks, loop.create_future())
        self._push(loop, job)
        try:
            await job.future
        finally:
            job.done = True

    def _push(self, loop: asyncio.AbstractEventLoop, job: _Job, at: float | None = None) -> None:
        due = job.next_due if at is None else at
        heapq.heappush(self._heap, (due, next(self._order), job))
        if self._timer is None or due < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = due
            self._timer = loop.call_at(due, self._fire, loop)

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        horizon = loop.time() + SLACK
        heap = self._heap
        while heap and heap[0][0] <= horizon:
            _, _, job = heapq.heappop(heap)
            if job.done:
                continue
            self._flush(loop, job, horizon)
        if heap and self._timer is None:
            self._timer_at = heap[0][0]
            self._timer = loop.call_at(self._timer_at, self._fire, loop)

    def _flush(self, loop: asyncio.AbstractEventLoop, job: _Job, horizon: float) -> None:
        transport = job.transport
        if transport.is_closing():
            job.done = True
            if not job.future.done():
                job.future.set_exception(ConnectionResetError("client disconnected"))
            return
        # Duck-typed: uvloop's transports write the same way but do not subclass asyncio's.
        transport = cast(asyncio.WriteTransport, transport)
        if transport.get_write_buffer_size() > HIGH_WATER:
            heapq.heappush(self._heap, (horizon + PAUSE, next(self._order), job))
            return
        chunks, start = job.chunks, job.position
        end = start
        while end < len(chunks) and chunks[end][0] <= horizon:
            end += 1
        now = horizon - SLACK
        for due, _ in chunks[start:end]:
            late = int(max(0.0, now - due) / _BUCKET)
            self._lateness[late if late < _BUCKETS else _BUCKETS - 1] += 1
        self.chunks_sent += end - start
        payload = b"".join(data for _, data in chunks[start:end])
        transport.write(b"%x\r\n%b\r\n" % (len(payload), payload))
        job.position = end
        if end == len(chunks):
            job.done = True
            if not job.future.done():
                job.future.set_result(None)
        else:
            heapq.heappush(self._heap, (chunks[end][0], next(self._order), job))
