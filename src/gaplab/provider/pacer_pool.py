"""Stream workers: child processes that write streams' chunks on schedule, so the socket
writes of many concurrent streams use more than one core.

Why. A streamed chunk is one socket write, and on loopback the kernel's half of a write
(TCP send, the receiver's side of the stack, waking the reader) is most of its cost: about
12 us of the 20-25 us a chunk costs the provider on the 2-core benchmark machine (`perf`,
1,000 streams at 50 tokens/s). One process therefore runs out near 40,000-50,000 chunks a
second, and a thousand streams at 50 tokens/s is 50,000: chunks fell 25-40 ms behind
schedule at p99 however lean the Python half was made. Everything else about a call (faults,
rate windows, the journal, spelling the answer) must stay in one process so that its state
is one state; only the timed writing of a stream's bytes is handed out.

How. The provider spells a stream's chunks into a `Schedule` as before. When the workers
are running, `PacerPool.send` passes the connection's file descriptor (SCM_RIGHTS over a
Unix socket) and the schedule's three buffers to the least busy worker. The worker
writes the chunks from its own `StreamPacer` on the same schedule (due times travel with
their offset from CLOCK_MONOTONIC, which all processes share), closes its copy of the
descriptor and reports back; the provider then writes the stream's closing events itself,
on the same connection, which stays open and reusable (keep-alive) throughout. A client
that leaves is a `ConnectionResetError` from `send`, as with the in-process pacer; a
cancelled `send` tells the worker to drop the stream. Workers report their lateness
histograms, so `/_lab/health` covers every chunk, wherever it was written.

Streams that cannot be handed over (no workers, a worker gone, a connection whose
transport still holds unsent bytes, no descriptor or memory left for the hand-over) or
that a worker refuses before writing anything are paced in-process. A worker that dies
mid-stream cuts its streams (`StreamWorkerLost`, journaled as `stream_cut`). Workers exit
when their channel closes, so a provider that dies (even SIGKILL) leaves none behind; they
ignore SIGINT and leave Ctrl-C to the provider, which stops them.

Frames, both directions: 4-byte length, 1-byte kind, payload. A JOB frame carries two
descriptors attached to its first byte: the client's connection and an in-memory file
with the schedule (`job_file`). Each message's descriptors arrive as one bundle, in order,
so the receiver takes the next bundle for each JOB frame; a bundle the kernel had to cut
short (the receiver out of descriptors) is refused, not mispaired.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import itertools
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from typing import cast

from gaplab.provider.pacer import Schedule, StreamPacer, lateness_percentile, open_writable

READY, JOB, CANCEL, DONE, STATS = 1, 2, 3, 4, 5  # JOB: the client's socket, then a file
OK, RESET, REFUSED = 0, 1, 2  # REFUSED: not taken, nothing written; the provider paces it
HEADER = struct.Struct("!IB")  # payload length, kind
JOB_HEAD = struct.Struct("!QIQd")  # job id, chunks, payload file size, CLOCK_MONOTONIC - loop time
DONE_BODY = struct.Struct("!QB")  # job id, outcome
CANCEL_BODY = struct.Struct("!Q")
STATS_HEAD = struct.Struct("!QQI")  # chunks sent, writes, histogram entries
STATS_ENTRY = struct.Struct("!IQ")  # lateness bucket, chunks
START_TIMEOUT = 30.0  # seconds for a worker to import and report ready
_READ_SIZE = 64 * 1024  # frames are small: a stream's bytes travel in a file (`job_file`)


class _Refused(Exception):
    """A worker could not take a stream (descriptors or payload lost): nothing was written."""


class StreamWorkerLost(RuntimeError):
    """The worker writing a stream exited before the stream's end (the stream is cut)."""


def available() -> bool:
    """Stream workers need Unix sockets that carry file descriptors (not on Windows)."""
    return hasattr(socket, "AF_UNIX") and hasattr(socket, "SCM_RIGHTS") and os.name == "posix"


def auto_workers() -> int:
    """The `auto` number of stream workers: two per core, up to eight, when there are at
    least two cores (with one, workers would only compete with the provider for it).

    Two per core because a worker's lateness tail is the time it waits for a core: with
    fewer streams each, a worker that is made to wait holds back fewer chunks and catches
    up sooner. `bench/provider.py --only streams` on the 2-core machine, 1,000 streams:
    p99 22-27 ms with 2 workers, 8.5-17 ms with 3, 6-7 ms with 4, 4.5 ms with 6."""
    cores = os.cpu_count() or 1
    return min(2 * cores, 8) if cores >= 2 and available() else 0


class Channel:
    """Length-prefixed frames over a non-blocking Unix stream socket, on an event loop,
    with file descriptors riding along. Sending never blocks: what the socket does not
    take is queued and written when it can."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        on_frame: Callable[[int, bytes], None],
        on_close: Callable[[], None],
    ) -> None:
        sock.setblocking(False)
        self._loop = loop
        self._sock = sock
        self._fileno = sock.fileno()
        self._on_frame = on_frame
        self._on_close = on_close
        self._inbox = bytearray()
        # Descriptors received and not yet claimed, one bundle per message that carried
        # some (None: the kernel had to drop some of them, MSG_CTRUNC). Linux ends a read
        # after a message with descriptors, so bundles pair with frames in order.
        self.fds: deque[tuple[int, ...] | None] = deque()
        self._outbox: deque[tuple[memoryview, tuple[int, ...]]] = deque()
        self.closed = False
        loop.add_reader(self._fileno, self._read)

    def send(self, kind: int, payload: bytes = b"", fds: tuple[int, ...] = ()) -> None:
        """Queue a frame; `fds` go with its first byte and are the channel's to close
        (pass duplicates of descriptors that must stay open)."""
        if self.closed:
            _close_all(fds)
            raise ConnectionResetError("stream worker channel is closed")
        frame = HEADER.pack(len(payload), kind) + payload
        was_idle = not self._outbox
        self._outbox.append((memoryview(frame), fds))
        if was_idle:
            self._write()
            if self._outbox and not self.closed:
                self._loop.add_writer(self._fileno, self._write)

    def _write(self) -> None:
        while self._outbox:
            data, fds = self._outbox[0]
            try:
                if fds:
                    rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
                    sent = self._sock.sendmsg([data], rights)
                    _close_all(fds)  # the receiver holds them now
                else:
                    sent = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.close()
                return
            if sent < len(data):
                # The descriptors went with the first byte; the rest goes without them.
                self._outbox[0] = (data[sent:], ())
                return
            self._outbox.popleft()
        self._loop.remove_writer(self._fileno)

    def _read(self) -> None:
        try:
            data, ancillary, flags, _ = self._sock.recvmsg(
                _READ_SIZE, socket.CMSG_SPACE(16 * array.array("i").itemsize)
            )
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancillary, flags = b"", [], 0
        fds = array.array("i")
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        if flags & socket.MSG_CTRUNC:
            _close_all(tuple(fds))
            self.fds.append(None)
        elif fds:
            self.fds.append(tuple(fds))
        if not data:
            self.close()
            return
        inbox = self._inbox
        inbox += data
        start = 0
        while len(inbox) - start >= HEADER.size:
            length, kind = HEADER.unpack_from(inbox, start)
            end = start + HEADER.size + length
            if len(inbox) < end:
                break
            self._on_frame(kind, bytes(inbox[start + HEADER.size : end]))
            start = end
            if self.closed:
                return
        del inbox[:start]

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._loop.remove_reader(self._fileno)
        self._loop.remove_writer(self._fileno)
        self._sock.close()
        while self.fds:  # received but never claimed
            _close_all(self.fds.popleft() or ())
        while self._outbox:  # never sent
            _close_all(self._outbox.popleft()[1])
        self._on_close()


def _close_all(fds: tuple[int, ...]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def job_file(schedule: Schedule) -> tuple[int, int]:
    """An anonymous in-memory file holding `schedule`: its due times (the sender's
    event-loop time), the ends of its chunks, its bytes. Returns the descriptor and the
    file's size.

    A file, not the channel, because a stream's bytes (about 140 KB for 500 tokens) are
    most of a socket buffer: sent through the channel, a burst of new streams queued
    behind the worker's reads, and streams reached their worker hundreds of ms late."""
    parts = [schedule.dues.tobytes(), schedule.ends.tobytes(), schedule.blob]
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("gaplab-stream", os.MFD_CLOEXEC)
    else:  # macOS and other Unixes: an unlinked temporary file
        with tempfile.TemporaryFile() as handle:
            fd = os.dup(handle.fileno())
    try:
        size = sum(len(part) for part in parts)
        written = os.writev(fd, parts)
        while written < size:  # short writes are allowed, if rare on files
            data = b"".join(parts)[written:]
            written += os.write(fd, data)
    except BaseException:
        os.close(fd)
        raise
    return fd, size


def read_job(fd: int, count: int, size: int, shift: float) -> Schedule:
    """The schedule `job_file` wrote to `fd`, due times moved by `shift` seconds (the
    sender's event-loop time to the reader's). Closes `fd`."""
    try:
        raw = bytearray()
        while len(raw) < size:
            part = os.pread(fd, size - len(raw), len(raw))
            if not part:
                raise ValueError("stream payload file is shorter than announced")
            raw += part
    finally:
        os.close(fd)
    view = memoryview(raw)
    dues = array.array("d")
    dues.frombytes(view[: 8 * count])
    ends = array.array("q")
    ends.frombytes(view[8 * count : 16 * count])
    if shift:
        dues = array.array("d", [due + shift for due in dues])
    return Schedule.from_buffers(dues, ends, bytes(view[16 * count :]))


def stats_frame(pacer: StreamPacer) -> bytes:
    histogram = pacer.histogram()
    head = STATS_HEAD.pack(pacer.chunks_sent, pacer.writes, len(histogram))
    return head + b"".join(STATS_ENTRY.pack(bucket, n) for bucket, n in histogram.items())


def parse_stats(payload: bytes) -> tuple[int, int, dict[int, int]]:
    chunks, writes, entries = STATS_HEAD.unpack_from(payload)
    histogram = {}
    for index in range(entries):
        bucket, count = STATS_ENTRY.unpack_from(payload, STATS_HEAD.size + index * STATS_ENTRY.size)
        histogram[bucket] = count
    return chunks, writes, histogram


def _handover(fileno: int, schedule: Schedule) -> tuple[int, int, int] | None:
    """The descriptors a JOB frame carries: a duplicate of the connection's (ours stays
    the transport's, and the duplicate keeps the connection's identity even while the
    frame waits in the queue) and the schedule's file; with the file's size. None when
    the system refuses either."""
    try:
        payload, size = job_file(schedule)
    except OSError:
        return None
    try:
        connection = os.dup(fileno)
    except OSError:
        os.close(payload)
        return None
    return connection, payload, size


async def _reap(process: subprocess.Popen[bytes], grace: float) -> int:
    """Wait up to `grace` seconds for `process` to exit, then kill it; its exit code."""
    try:
        return await asyncio.to_thread(process.wait, max(0.0, grace))
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


class _Worker:
    def __init__(self, process: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.process = process
        self.channel: Channel | None = None  # set once made: its callbacks name this worker
        self.ready: asyncio.Future[None] = loop.create_future()
        # Its failure is reported by `_wait_ready`; a worker never waited for (start()
        # gave up on an earlier one) must not log "exception never retrieved".
        self.ready.add_done_callback(lambda done: done.cancelled() or done.exception())
        self.jobs: dict[int, asyncio.Future[None]] = {}
        self.chunks_sent = 0
        self.writes = 0
        self.histogram: dict[int, int] = {}

    @property
    def alive(self) -> bool:
        return self.channel is not None and not self.channel.closed


class PacerPool:
    """Stream pacing spread over `workers` child processes, with the same interface as
    `StreamPacer` (`send`, `chunks_sent`, `writes`, `lateness_percentile`)."""

    def __init__(self, workers: int, *, python: str = sys.executable) -> None:
        if workers < 1:
            raise ValueError("a PacerPool needs at least one worker")
        if not available():
            raise RuntimeError("stream workers need Unix sockets (not available here)")
        self._count = workers
        self._python = python
        self._workers: list[_Worker] = []
        self._local = StreamPacer()  # for streams that cannot be handed over
        self._ids = itertools.count(1)
        self._turn = itertools.count()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            for _ in range(self._count):
                self._workers.append(self._spawn(loop))
            deadline = loop.time() + START_TIMEOUT
            for worker in self._workers:
                await self._wait_ready(worker, deadline)
        except BaseException:
            await self.stop()
            raise

    def _spawn(self, loop: asyncio.AbstractEventLoop) -> _Worker:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            process = subprocess.Popen(
                [self._python, "-m", "gaplab.provider.pacer_worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        except OSError as exc:
            ours.close()
            raise RuntimeError(f"cannot start a stream worker ({self._python}): {exc}") from None
        finally:
            theirs.close()
        worker = _Worker(process, loop)
        worker.channel = Channel(
            loop,
            ours,
            lambda kind, payload: self._on_frame(worker, kind, payload),
            lambda: self._on_close(worker),
        )
        return worker

    async def _wait_ready(self, worker: _Worker, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(asyncio.shield(worker.ready), max(0.0, deadline - loop.time()))
        except TimeoutError:
            raise RuntimeError(
                f"a stream worker did not report ready within {START_TIMEOUT:.0f} s"
            ) from None
        except ConnectionResetError:
            code = await _reap(worker.process, 1.0)  # it closed its end: it is exiting
            raise RuntimeError(
                f"a stream worker exited before it was ready (exit code {code}; "
                "its error, if any, is on stderr above)"
            ) from None

    async def stop(self) -> None:
        """Close every channel (the workers exit on it) and reap the processes. What they
        sent stays counted."""
        for worker in self._workers:
            if worker.channel is not None:
                worker.channel.close()
        deadline = time.monotonic() + 2.0
        for worker in self._workers:
            await _reap(worker.process, deadline - time.monotonic())

    # -- frames from the workers -----------------------------------------------------------

    def _on_frame(self, worker: _Worker, kind: int, payload: bytes) -> None:
        if kind == DONE:
            job_id, outcome = DONE_BODY.unpack(payload)
            future = worker.jobs.pop(job_id, None)
            if future is not None and not future.done():
                if outcome == OK:
                    future.set_result(None)
                elif outcome == REFUSED:
                    future.set_exception(_Refused())
                else:
                    future.set_exception(ConnectionResetError("client disconnected"))
        elif kind == STATS:
            worker.chunks_sent, worker.writes, worker.histogram = parse_stats(payload)
        elif kind == READY and not worker.ready.done():
            worker.ready.set_result(None)

    def _on_close(self, worker: _Worker) -> None:
        if not worker.ready.done():
            worker.ready.set_exception(ConnectionResetError("stream worker exited"))
        jobs, worker.jobs = worker.jobs, {}
        for future in jobs.values():
            if not future.done():
                future.set_exception(StreamWorkerLost("a stream worker exited mid-stream"))

    # -- pacing ----------------------------------------------------------------------------

    @property
    def workers_alive(self) -> int:
        return sum(1 for worker in self._workers if worker.alive)

    def _pick(self) -> _Worker | None:
        alive = [worker for worker in self._workers if worker.alive]
        if not alive:
            return None
        # Least busy first; ties taken in turn (min keeps the first of equals, and the list
        # is rotated each time) so an idle pool spreads its first streams.
        turn = next(self._turn) % len(alive)
        return min(alive[turn:] + alive[:turn], key=lambda worker: len(worker.jobs))

    async def send(self, transport: object | None, schedule: Schedule) -> None:
        """As `StreamPacer.send`: returns once every chunk has been written; raises
        `ConnectionResetError` when the client goes away first."""
        if not len(schedule):
            return
        writable = open_writable(transport)
        worker = self._pick()
        sock = cast(asyncio.BaseTransport, transport).get_extra_info("socket")
        if worker is None or sock is None or writable.get_write_buffer_size():
            # Nowhere to hand it, or bytes of ours still queued ahead of the chunks.
            await self._local.send(transport, schedule)
            return
        assert worker.channel is not None
        loop = asyncio.get_running_loop()
        handover = _handover(sock.fileno(), schedule)
        if handover is None:  # out of memory or descriptors: pace it here instead
            await self._local.send(transport, schedule)
            return
        connection, payload, size = handover
        job_id = next(self._ids)
        future: asyncio.Future[None] = loop.create_future()
        worker.jobs[job_id] = future
        try:
            # Due times travel in our loop's time, with how far it is from CLOCK_MONOTONIC
            # (which all processes share); the worker moves them to its own loop's once.
            head = JOB_HEAD.pack(job_id, len(schedule), size, time.monotonic() - loop.time())
            worker.channel.send(JOB, head, fds=(connection, payload))
            await future
        except _Refused:
            await self._local.send(transport, schedule)
        except asyncio.CancelledError:
            if job_id in worker.jobs and worker.alive:  # still the worker's: make it stop
                worker.channel.send(CANCEL, CANCEL_BODY.pack(job_id))
            raise
        finally:
            worker.jobs.pop(job_id, None)

    # -- what was sent, and how late -------------------------------------------------------

    @property
    def chunks_sent(self) -> int:
        return self._local.chunks_sent + sum(w.chunks_sent for w in self._workers)

    @property
    def writes(self) -> int:
        return self._local.writes + sum(w.writes for w in self._workers)

    def histogram(self) -> dict[int, int]:
        merged = self._local.histogram()
        for worker in self._workers:
            for bucket, count in worker.histogram.items():
                merged[bucket] = merged.get(bucket, 0) + count
        return merged

    def lateness_percentile(self, fraction: float) -> float:
        return lateness_percentile(self.histogram(), fraction)
