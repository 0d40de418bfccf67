"""A stream worker process (`python -m gaplab.provider.pacer_worker FD`): receives streams
from the provider over the Unix socket FD, writes their chunks on schedule with its own
`StreamPacer`, and reports each stream's end and its lateness figures. See
`gaplab.provider.pacer_pool` for why and for the frames.

It imports only the pacer and the event-loop settings (no aiohttp, no pydantic), so it
starts in a fraction of the provider's time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time

from gaplab import runtime
from gaplab.provider.pacer import Schedule, StreamPacer
from gaplab.provider.pacer_pool import (
    CANCEL,
    CANCEL_BODY,
    DONE,
    DONE_BODY,
    JOB,
    JOB_HEAD,
    OK,
    READY,
    REFUSED,
    RESET,
    STATS,
    Channel,
    read_job,
    stats_frame,
)

STATS_EVERY = 0.05  # seconds between lateness reports while streams are open


class SocketWriter:
    """A client connection as the pacer sees a transport: writes go straight to the
    socket, what it does not take waits in a buffer until it can. It closes only this
    process's copy of the descriptor, never the connection (the provider keeps using it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
        self._loop = loop
        self._sock = sock
        self._fileno = sock.fileno()
        self._buffer = bytearray()
        self._closing = False
        self._drained: asyncio.Future[None] | None = None

    def is_closing(self) -> bool:
        return self._closing

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def write(self, data: bytes) -> None:
        if self._closing:
            return
        if self._buffer:
            self._buffer += data
            return
        try:
            sent = self._sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._lost()
            return
        if sent < len(data):
            self._buffer += data[sent:]
            self._loop.add_writer(self._fileno, self._flush)

    def _flush(self) -> None:
        try:
            sent = self._sock.send(self._buffer)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._lost()
            return
        del self._buffer[:sent]
        if not self._buffer:
            self._loop.remove_writer(self._fileno)
            if self._drained is not None and not self._drained.done():
                self._drained.set_result(None)

    def _lost(self) -> None:
        self._closing = True
        self._buffer.clear()
        self._loop.remove_writer(self._fileno)
        if self._drained is not None and not self._drained.done():
            self._drained.set_exception(ConnectionResetError("client disconnected"))

    async def drained(self) -> None:
        """Returns once everything written has reached the socket."""
        if self._closing:
            raise ConnectionResetError("client disconnected")
        if self._buffer:
            self._drained = self._loop.create_future()
            await self._drained

    def close(self) -> None:
        self._closing = True
        self._loop.remove_writer(self._fileno)
        self._sock.close()  # this process's descriptor only: no shutdown, the peer sees nothing


class Worker:
    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
        self.loop = loop
        self.pacer = StreamPacer()
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.finished = asyncio.Event()
        self._last_stats = 0.0
        self.channel = Channel(loop, sock, self._on_frame, self.finished.set)

    def _on_frame(self, kind: int, payload: bytes) -> None:
        if kind == JOB:
            job_id, count, size, offset = JOB_HEAD.unpack(payload)
            bundle = self.channel.fds.popleft() if self.channel.fds else None
            schedule = None
            if bundle is not None and len(bundle) == 2:
                connection, payload_file = bundle
                shift = offset + self.loop.time() - time.monotonic()  # theirs -> ours
                try:
                    schedule = read_job(payload_file, count, size, shift)  # closes the file
                except (OSError, ValueError):
                    os.close(connection)
            else:  # descriptors lost on the way (this process out of them)
                for fd in bundle or ():
                    os.close(fd)
            if schedule is None:  # refused: nothing written, the provider paces it
                self.channel.send(DONE, DONE_BODY.pack(job_id, REFUSED))
                return
            task = self.loop.create_task(self._run(job_id, connection, schedule))
            self.tasks[job_id] = task
        elif kind == CANCEL:
            (job_id,) = CANCEL_BODY.unpack(payload)
            cancelled = self.tasks.pop(job_id, None)
            if cancelled is not None:
                cancelled.cancel()

    async def _run(self, job_id: int, fd: int, schedule: Schedule) -> None:
        writer = SocketWriter(self.loop, socket.socket(fileno=fd))
        outcome = OK
        try:
            await self.pacer.send(writer, schedule)
            await writer.drained()
        except OSError:  # ConnectionResetError among them: the client left
            outcome = RESET
        finally:
            writer.close()
        if self.tasks.pop(job_id, None) is None or self.channel.closed:
            return  # cancelled while it ended: the provider has moved on
        now = time.monotonic()
        if not self.tasks or now - self._last_stats >= STATS_EVERY:
            self._last_stats = now
            self.channel.send(STATS, stats_frame(self.pacer))  # before DONE: in order
        self.channel.send(DONE, DONE_BODY.pack(job_id, outcome))

    async def serve(self) -> None:
        self.channel.send(READY)
        await self.finished.wait()
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)


async def _main(fd: int) -> None:
    worker = Worker(asyncio.get_running_loop(), socket.socket(fileno=fd))
    runtime.freeze_startup_objects()
    await worker.serve()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m gaplab.provider.pacer_worker FD", file=sys.stderr)
        return 2
    # Ctrl-C reaches the whole process group: the provider handles it and closes our
    # channel, which is what ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    runtime.raise_open_file_limit()
    runtime.run(_main(int(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
