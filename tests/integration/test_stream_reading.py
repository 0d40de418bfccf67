"""The lab reads streamed answers as a browser would, from a real SSE server on loopback:
time to first byte, how each stream ended (done, the target's error event, cut short,
stalled past the user's patience), the chunk count, the assembled answer judged as any
answer (contract and marks in the events' data included)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from gaplab.engine.events import UserRequestFinished
from gaplab.scenario.target_models import TargetFile

from .sse_server import ask_builtin, serving, sse_handler

EVENTS: dict[str, list[bytes]] = {
    "done": [b'data: {"delta": "Your order "}\n\n', b'data: {"delta": "ships Tuesday."}\n\n',
             b"data: [DONE]\n\n"],
    "crlf": [b'data: {"delta": "Fine"}\r\n\r\n', b": keep-alive\r\n\r\n", b"data: [DONE]\r\n\r\n"],
    "error": [b'data: {"delta": "Your order "}\n\n',
              b'event: error\ndata: {"error": "interrupted"}\n\n'],
    "cut": [b'data: {"delta": "Your order "}\n\n'],
    "stall": [b'data: {"delta": "Your order "}\n\n'],
    "fixed": [b'data: {"delta": "Sorry, unavailable.", "degraded": true}\n\n', b"data: [DONE]\n\n"],
    "contract": [b'data: {"delta": "{\\"category\\": \\"repair\\"}"}\n\n', b"data: [DONE]\n\n"],
}  # fmt: skip


@pytest.fixture
async def sse_url() -> AsyncIterator[str]:
    async def refused(_: web.Request) -> web.Response:
        return web.json_response({"error": "over quota"}, status=429)

    async with serving({"/stream": sse_handler(EVENTS), "/refused": refused}) as url:
        yield url


async def ask(url: str, kind: str, patience: float = 5.0, **response: Any) -> UserRequestFinished:
    target = TargetFile.model_validate(
        {
            "name": "sse",
            "request": {"url": url, "json": {"message": "{input}"}},
            "response": {"stream": {}, "degraded": {"field": "$.degraded"}, **response},
        }
    )
    return await ask_builtin(target, kind, patience, "r-1")


async def test_a_complete_stream_is_an_answer_with_its_timing_and_chunks(sse_url: str) -> None:
    done = await ask(sse_url + "/stream", "done")
    assert (done.outcome, done.stream_end, done.chunks) == ("ok", "done", 3)
    assert done.ttfb is not None and 0.04 < done.ttfb < done.latency
    crlf = await ask(sse_url + "/stream", "crlf")
    assert (crlf.outcome, crlf.stream_end, crlf.chunks) == ("ok", "done", 2)  # no comment


async def test_how_a_broken_stream_ended_decides_its_outcome(sse_url: str) -> None:
    error = await ask(sse_url + "/stream", "error")
    assert (error.outcome, error.stream_end) == ("error", "error_event")
    assert error.detail == "stream ended with the target's error event"
    cut = await ask(sse_url + "/stream", "cut")
    assert (cut.outcome, cut.stream_end, cut.detail) == (
        "error", "cut", "stream ended without completing",
    )  # fmt: skip
    stall = await ask(sse_url + "/stream", "stall", patience=0.5)
    assert (stall.outcome, stall.stream_end, stall.chunks) == ("error", "stalled", 1)
    assert 0.5 <= stall.latency < 1.5


async def test_marks_in_the_events_data_and_the_contract_are_read(sse_url: str) -> None:
    fixed = await ask(sse_url + "/stream", "fixed")
    assert (fixed.outcome, fixed.stream_end) == ("degraded", "done")
    kept = await ask(sse_url + "/stream", "contract", contract={"required": ["category"]})
    assert kept.outcome == "ok"
    off = await ask(sse_url + "/stream", "contract", contract={"required": ["urgency"]})
    assert (off.outcome, off.detail) == ("error", "off contract: missing urgency")


async def test_an_answer_decided_before_the_stream_is_judged_as_json(sse_url: str) -> None:
    refused = await ask(sse_url + "/refused", "done")
    assert (refused.outcome, refused.status, refused.stream_end) == ("error", 429, "")
    assert refused.to_dict().keys().isdisjoint({"ttfb", "stream_end", "chunks"})


async def test_a_patience_past_five_seconds_is_kept_to_the_millisecond(sse_url: str) -> None:
    # aiohttp rounds deadlines past 5 s up to its loop clock's next whole second unless told
    # not to: started just after a whole second, a 5.01 s patience would end near 6 s.
    loop = asyncio.get_running_loop()
    await asyncio.sleep((1.05 - loop.time() % 1.0) % 1.0)
    stall = await ask(sse_url + "/stream", "stall", patience=5.01)
    assert stall.stream_end == "stalled"
    assert 5.0 <= stall.latency < 5.5, stall.latency
