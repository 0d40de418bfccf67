"""A streaming target for the stream-reading tests: a real aiohttp server on loopback that
answers `POST /stream` with the SSE events of the kind named in the request's `message`
(first byte after 50 ms), then ends the stream as that kind says: cleanly, never
(`stall`), or by dropping the connection mid-answer (`abrupt`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from aiohttp import web

from gaplab.engine.clock import MonotonicClock
from gaplab.engine.events import Event, UserRequestFinished
from gaplab.load.client import RequestClient
from gaplab.load.inputs.base import UserInput
from gaplab.scenario.target_models import TargetFile

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def sse_handler(events: Mapping[str, list[bytes]]) -> Handler:
    async def stream(request: web.Request) -> web.StreamResponse:
        kind = (await request.json())["message"]
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await asyncio.sleep(0.05)  # the first byte comes after 50 ms
        for event in events[kind]:
            await response.write(event)
            await asyncio.sleep(0.01)
        if kind == "abrupt":
            assert request.transport is not None
            request.transport.abort()  # no end of the chunked body: cut mid-answer
            return response
        if kind == "stall":
            await asyncio.sleep(30)
        with contextlib.suppress(ConnectionError):  # a reader may leave once it has [DONE]
            await response.write_eof()
        return response

    return stream


@contextlib.asynccontextmanager
async def serving(routes: Mapping[str, Handler]) -> AsyncIterator[str]:
    """The routes (POST) served on a free loopback port; yields the base URL."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_post(path, handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def ask_builtin(
    target: TargetFile, kind: str, patience: float, request_id: str = "r-1"
) -> UserRequestFinished:
    """One request of `kind` by the built-in client, as the lab would journal it."""
    events: list[Event] = []
    client = RequestClient(target, {}, MonotonicClock(), events.append, patience)
    client.open()
    try:
        await client.ask(0, "user-0000", request_id, UserInput(kind, "questions", ""), "p")
    finally:
        await client.close()
    [event] = events
    assert isinstance(event, UserRequestFinished)
    return event
