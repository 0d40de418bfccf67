"""A small SSE server for bench/load.py --stream: each POST is answered with a stream of
`tokens` events at `rate` per second, then `data: [DONE]`. Every event carries the moment
it was written (`sent`, CLOCK_MONOTONIC, shared by every process on the machine), so the
client's own lateness (read minus sent) is measured apart from the server's (sent minus
due, also reported). One ticker writes every stream's due events, so 500 streams cost one
timer, not 500."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from aiohttp import web

TICK = 0.002  # seconds between the ticker's passes


class Streams:
    def __init__(self, rate: float, tokens: int) -> None:
        self.rate, self.tokens = rate, tokens
        self.open: dict[int, tuple[Any, float, list[int], asyncio.Event]] = {}
        self.server_late: list[float] = []

    async def ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            for key, (transport, start, sent, finished) in list(self.open.items()):
                due = int((now - start) * self.rate) + 1
                parts = []
                while sent[0] < min(due, self.tokens):
                    index = sent[0]
                    self.server_late.append(now - (start + index / self.rate))
                    parts.append(b'data: {"delta": "tok ", "sent": %.6f}\n\n' % time.monotonic())
                    sent[0] += 1
                if parts and transport is not None and not transport.is_closing():
                    transport.write(_chunk(b"".join(parts)))
                if sent[0] >= self.tokens:
                    del self.open[key]
                    finished.set()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def serve_streams(rate: float, tokens: int) -> tuple[int, Streams]:
    streams = Streams(rate, tokens)

    async def stream(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        finished = asyncio.Event()
        # The ticker writes chunked frames straight to the transport (one write per tick).
        streams.open[id(response)] = (request.transport, time.monotonic(), [0], finished)
        await finished.wait()
        with contextlib.suppress(ConnectionError):  # the bench stopped reading
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        return response

    async def late(_: web.Request) -> web.Response:
        values = sorted(streams.server_late)
        streams.server_late.clear()
        pick = (lambda q: values[min(len(values) - 1, int(q * len(values)))]) if values else None
        return web.json_response(
            {"p50": pick(0.5) if pick else None, "p99": pick(0.99) if pick else None}
        )

    app = web.Application()
    app.router.add_post("/stream", stream)
    app.router.add_get("/late", late)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=4096).start()
    asyncio.get_running_loop().create_task(streams.ticker())
    return int(runner.addresses[0][1]), streams
