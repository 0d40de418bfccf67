"""The stream pacer on real loopback sockets: chunks leave in order, framed, on schedule;
staggered streams do not delay each other; a client that leaves ends its stream. Each test
runs against the provider's in-process pacer and against stream worker processes
(`PacerPool`), which must behave the same on the wire."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from gaplab.provider import pacer_pool
from gaplab.provider.pacer import TICK, Schedule, StreamPacer
from gaplab.provider.pacer_pool import PacerPool

Pacer = StreamPacer | PacerPool


@pytest.fixture(
    params=[
        "in-process",
        pytest.param(
            "workers",
            marks=pytest.mark.skipif(not pacer_pool.available(), reason="needs Unix sockets"),
        ),
    ]
)
async def pacer(request: pytest.FixtureRequest) -> AsyncIterator[Pacer]:
    if request.param == "in-process":
        yield StreamPacer()
        return
    pool = PacerPool(2)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.stop()


LATE_LIMIT = 0.1  # seconds; a healthy loop is within a few ms, the bugs this guards were 140+


def _unchunk(raw: bytes) -> list[bytes]:
    """The payloads of an HTTP/1.1 chunked body (no terminating chunk needed)."""
    payloads = []
    while raw:
        size_line, _, rest = raw.partition(b"\r\n")
        size = int(size_line, 16)
        payloads.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        raw = rest[size + 2 :]
    return payloads


async def _pair() -> tuple[asyncio.StreamWriter, asyncio.StreamReader, asyncio.Server]:
    accepted: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()

    async def on_client(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(writer)

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, client_writer = await asyncio.open_connection("127.0.0.1", port)
    # The client's writer must outlive the test: a collected StreamWriter closes its socket.
    server.client_writer = client_writer  # type: ignore[attr-defined]
    return await accepted, reader, server


def _close(writer: asyncio.StreamWriter, server: asyncio.Server) -> None:
    writer.close()
    server.client_writer.close()  # type: ignore[attr-defined]
    server.close()


async def _read_timed(reader: asyncio.StreamReader, count: int) -> list[tuple[float, bytes]]:
    """(arrival, payload) for `count` framed payloads, read as they come."""
    loop = asyncio.get_running_loop()
    arrivals: list[tuple[float, bytes]] = []
    buffer = b""
    while len(arrivals) < count:
        data = await reader.read(65536)
        assert data, "connection closed early"
        now = loop.time()
        buffer += data
        while True:
            size_line, sep, rest = buffer.partition(b"\r\n")
            if not sep:
                break
            size = int(size_line, 16)
            if len(rest) < size + 2:
                break
            arrivals.append((now, rest[:size]))
            buffer = rest[size + 2 :]
    return arrivals


async def test_staggered_streams_each_get_their_chunks_in_order_and_on_time(pacer: Pacer) -> None:
    loop = asyncio.get_running_loop()
    pairs = [await _pair() for _ in range(3)]
    try:
        start = loop.time() + 0.05
        schedules = []
        for stream in range(len(pairs)):
            schedule = Schedule()
            # 5 chunks 300 ms apart, streams 60 ms apart: a stream filed during a wake-up
            # must not push back the wake-up an earlier stream is waiting for.
            for index in range(5):
                schedule.add(start + 0.06 * stream + 0.3 * index, b"s%d-c%d" % (stream, index))
            schedules.append(schedule.seal())
        sends = [
            asyncio.create_task(pacer.send(writer.transport, schedule))
            for (writer, _, _), schedule in zip(pairs, schedules, strict=True)
        ]
        received = await asyncio.gather(*(_read_timed(reader, 5) for _, reader, _ in pairs))
        await asyncio.gather(*sends)
    finally:
        for writer, _, server in pairs:
            _close(writer, server)
    for stream, arrivals in enumerate(received):
        assert [payload for _, payload in arrivals] == [b"s%d-c%d" % (stream, i) for i in range(5)]
        for index, (arrived, _) in enumerate(arrivals):
            due = start + 0.06 * stream + 0.3 * index
            assert arrived >= due - 2 * TICK, f"stream {stream} chunk {index} left early"
            assert arrived - due < LATE_LIMIT, f"stream {stream} chunk {index} late"
    assert pacer.chunks_sent == 15
    assert pacer.lateness_percentile(1.0) < LATE_LIMIT


async def test_chunks_already_due_leave_together_as_valid_chunked_encoding(
    pacer: Pacer,
) -> None:
    loop = asyncio.get_running_loop()
    writer, reader, server = await _pair()
    try:
        schedule = Schedule()
        past = loop.time() - 1.0  # all overdue: one write, still one HTTP chunk per payload
        for index in range(4):
            schedule.add(past + index * 0.01, b"data: %d\n\n" % index)
        await pacer.send(writer.transport, schedule.seal())
        raw = await asyncio.wait_for(reader.read(65536), 5)
    finally:
        _close(writer, server)
    assert _unchunk(raw) == [b"data: %d\n\n" % index for index in range(4)]
    assert pacer.writes == 1 and pacer.chunks_sent == 4


async def _streaming(
    pacer: Pacer, writer: asyncio.StreamWriter, reader: asyncio.StreamReader, count: int
) -> asyncio.Task[None]:
    """A stream of `count` chunks 20 ms apart, once its first chunk has arrived."""
    loop = asyncio.get_running_loop()
    schedule = Schedule()
    for index in range(count):
        schedule.add(loop.time() + 0.02 * (index + 1), b"chunk %d" % index)
    send = asyncio.create_task(pacer.send(writer.transport, schedule.seal()))
    await asyncio.wait_for(reader.read(100), 5)
    return send


async def test_a_client_that_leaves_ends_its_stream_with_connection_reset(pacer: Pacer) -> None:
    writer, reader, server = await _pair()
    try:
        send = await _streaming(pacer, writer, reader, 50)
        server.client_writer.transport.abort()  # type: ignore[attr-defined]
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(send, 5)
    finally:
        _close(writer, server)
    assert 0 < pacer.chunks_sent < 50  # the first chunk was read, the rest never sent


async def test_a_cancelled_stream_writes_nothing_more(pacer: Pacer) -> None:
    writer, reader, server = await _pair()
    try:
        send = await _streaming(pacer, writer, reader, 50)
        send.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await send
        await asyncio.sleep(0.05)  # a chunk already on its way may still land: take it
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(65536), 0.01)
        # Fifteen more chunks would have been due in the next 300 ms.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(65536), 0.3)
        assert not writer.transport.is_closing()  # the connection is the provider's to close
    finally:
        _close(writer, server)
