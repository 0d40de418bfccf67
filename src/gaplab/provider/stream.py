"""Sending an answer: streamed on a per-token schedule (with the stream faults: cut, stall,
drip, malformed JSON, half-written line, mid-stream error, wrong order) or whole, after the
time the model would take to generate it.

Chunk i is due at `start + tokens up to i / rate`; the provider's one `StreamPacer` writes
them on time for every open stream, coalescing whatever is already due, so a busy event
loop catches up instead of drifting further behind schedule.
"""

from __future__ import annotations

import asyncio
import time
from itertools import accumulate
from typing import Any

import orjson
from aiohttp import web

from gaplab.provider.calls import ChatRequest, Completion
from gaplab.provider.callstate import CallLog, ProviderState, StreamSpeller, Wire
from gaplab.provider.faults import ProviderFault
from gaplab.provider.markers import marked
from gaplab.provider.pacer import Schedule

DRIP_TOKENS_PER_SECOND = 2.0
_ENDING_FAULTS = frozenset({"cut", "stall", "half_line", "error_event"})

MIN_SLEEP = 0.001  # seconds; shorter waits are skipped


def stream_rate(default: float, faults: list[ProviderFault]) -> float:
    for fault in faults:
        if fault.token_rate is not None:
            return fault.token_rate
        if fault.stream == "drip":
            return DRIP_TOKENS_PER_SECOND
    return default


async def send_stream(
    state: ProviderState,
    wire: Wire,
    request: web.Request,
    chat: ChatRequest,
    done: Completion,
    log: CallLog,
    rate: float,
    fault: ProviderFault | None,
) -> web.StreamResponse:
    response = web.StreamResponse(status=200, headers=state.response_headers(wire, log))
    response.content_type = "text/event-stream"
    response.charset = "utf-8"
    response.headers["cache-control"] = "no-cache"
    log.status = 200
    await response.prepare(request)
    speller = wire.speller(done, chat, log.call_id, int(time.time()))
    log.t_first_byte = state.clock.now()
    kind = fault.stream if fault is not None else None
    opening = speller.opening()
    if kind == "wrong_order":
        opening += speller.out_of_order()
    await response.write(opening)
    schedule, broken = _schedule(
        wire, speller, done, asyncio.get_running_loop().time(), rate, fault
    )
    await state.pacer.send(request.transport, schedule)
    if broken is not None:
        return await _break(state, wire, response, speller, log, kind, *broken)
    if done.tool_calls:
        await response.write(speller.tool_calls())
    if kind in _ENDING_FAULTS:  # the answer ended before the fault's token: break at its end
        return await _break(state, wire, response, speller, log, kind, "", 0)
    await response.write(speller.closing())
    await response.write_eof()
    return response


def _schedule(
    wire: Wire,
    speller: StreamSpeller,
    done: Completion,
    start: float,
    rate: float,
    fault: ProviderFault | None,
) -> tuple[Schedule, tuple[str, int] | None]:
    """The stream's chunks with their due times, and where an ending stream fault strikes
    (the piece and choice it interrupts), if one does.

    A plain function, and the pieces dropped from `done` once spelled: the (piece, tokens)
    pairs must not live on in a coroutine frame for the length of the stream, or each open
    stream adds hundreds of objects to every garbage collection."""
    kind = fault.stream if fault is not None else None
    fault_at = fault.stream_after if fault is not None and kind in _ENDING_FAULTS else None
    malformed_at = fault.stream_after if fault is not None and kind == "malformed_json" else None
    schedule = Schedule()
    sent = 0.0
    if fault_at is None and malformed_at is None:  # the common case, spelled in bulk
        for index, chunks in enumerate(done.chunks):
            if not chunks:
                continue
            # The same additions in the same order as the loop below: the same due times.
            totals = list(accumulate((tokens for _, tokens in chunks), initial=sent))
            sent = totals[-1]
            dues = [start + total / rate for total in totals[1:]]
            schedule.extend(dues, speller.texts([piece for piece, _ in chunks], index))
        done.chunks = []
        return schedule.seal(), None
    for index, chunks in enumerate(done.chunks):
        for piece, tokens in chunks:
            if fault_at is not None and sent >= fault_at:
                done.chunks = []
                return schedule.seal(), (piece, index)
            if malformed_at is not None and sent >= malformed_at:
                schedule.add(start + sent / rate, _malformed(wire.dialect))
                malformed_at = None
            sent += tokens
            schedule.add(start + sent / rate, speller.text(piece, index))
    done.chunks = []
    return schedule.seal(), None


async def _break(
    state: ProviderState,
    wire: Wire,
    response: web.StreamResponse,
    speller: StreamSpeller,
    log: CallLog,
    kind: str | None,
    piece: str,
    index: int,
) -> web.StreamResponse:
    if kind == "stall":
        log.hanging = True
        await state.stop_event.wait()
        log.outcome = "hung"
        raise asyncio.CancelledError  # the provider is stopping: drop the connection
    if kind == "half_line":
        event = speller.text(piece or "...", index)
        await response.write(event[: len(event) // 2])
        log.outcome = "stream_cut"
    elif kind == "error_event":
        status = 529 if wire.dialect == "anthropic" else 500
        body = wire.error_body(
            status, marked(wire.default_message(status), log.call_id), request_id=log.call_id
        )
        await response.write(speller.error(body))
        log.outcome = "error"
    else:
        log.outcome = "stream_cut"
    await response.write_eof()
    return response


def _malformed(dialect: str) -> bytes:
    if dialect == "anthropic":
        return b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,\n\n'
    return b'data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{\n\n'


async def send_whole(
    state: ProviderState,
    wire: Wire,
    request: web.Request,
    done: Completion,
    log: CallLog,
    rate: float,
    fault: ProviderFault | None,
) -> web.StreamResponse:
    """A non-streamed answer: after the generation time, or broken by a stream fault."""
    generation = done.tokens_out / rate
    if generation >= MIN_SLEEP:  # a sub-millisecond sleep only costs a loop turn
        await asyncio.sleep(generation)
    body: Any = wire.completion_body(done, log.call_id, int(time.time()))
    payload = orjson.dumps(body)
    kind = fault.stream if fault is not None else None
    if kind in ("cut", "half_line", "malformed_json", "stall"):
        # A body shorter than its Content-Length: the client sees the connection break.
        response = web.StreamResponse(status=200, headers=state.response_headers(wire, log))
        response.content_type = "application/json"
        response.content_length = len(payload)
        log.status = 200
        await response.prepare(request)
        log.t_first_byte = state.clock.now()
        await response.write(payload[: len(payload) // 2])
        if kind == "stall":
            log.hanging = True
            await state.stop_event.wait()
            log.outcome = "hung"
            raise asyncio.CancelledError
        log.outcome = "stream_cut"
        if request.transport is not None:
            request.transport.close()
        return response
    log.status = 200
    log.t_first_byte = state.clock.now()
    return web.Response(
        status=200,
        body=payload,
        headers=state.response_headers(wire, log),
        content_type="application/json",
    )
