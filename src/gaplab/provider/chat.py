"""One chat call from arrival to journal record, for either dialect.

Order of decisions: parse, pick the firing faults, resolve the model (and a model swap),
account the prompt against the served model's context window, admit it through the rate
window, then the fault's error or hang, then time to first token, then the answer (whole or
streamed). Whatever happens, exactly one `ProviderCall` is recorded when the call ends,
including when the client leaves or the provider stops mid-call.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import orjson
from aiohttp import web

from gaplab.provider.anthropic_wire import STOP_REASONS
from gaplab.provider.behaviour import build_completion, prompt_tokens
from gaplab.provider.calls import ChatRequest, RequestError
from gaplab.provider.callstate import CallLog, ProviderState, Wire
from gaplab.provider.faults import ProviderFault
from gaplab.provider.markers import marked
from gaplab.provider.openai_wire import openai_finish
from gaplab.provider.pacer_pool import StreamWorkerLost
from gaplab.provider.profiles import ModelSpec
from gaplab.provider.ratelimit import anthropic_headers, openai_headers
from gaplab.provider.schedule import CallFacts, first_reference
from gaplab.provider.stream import MIN_SLEEP, send_stream, send_whole, stream_rate


class Refused(Exception):
    """Answer with an error status and a provider-shaped body."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = headers or {}


async def handle_chat(state: ProviderState, wire: Wire, request: web.Request) -> web.StreamResponse:
    log = state.begin_call(wire.dialect, request)
    task = asyncio.current_task()
    if task is not None:
        state.active[task] = log
    try:
        response = await _serve(state, wire, request, log)
        if log.outcome is None:
            log.outcome = "completed" if log.status < 400 else "error"
        return response
    except asyncio.CancelledError:
        if log.outcome is None or (log.outcome == "hung" and not state.stopping):
            log.outcome = "hung" if state.stopping else "client_disconnected"
        raise
    except ConnectionError:
        log.outcome = "client_disconnected"
        raise
    except StreamWorkerLost:
        log.outcome = "stream_cut"  # not the client's doing: the provider's own worker died
        raise
    finally:
        if task is not None:
            state.active.pop(task, None)
        state.finish_call(log)


async def _serve(
    state: ProviderState, wire: Wire, request: web.Request, log: CallLog
) -> web.StreamResponse:
    try:
        chat = await _parse(wire, request, log)
        facts = CallFacts(
            wire.dialect,
            chat.model,
            chat.correlation_user(),
            log.retry_count,
            first_reference(chat.question) if state.schedule.wants_references else None,
        )
        faults = state.schedule.firing(facts, state.clock.now())
        log.fault = "; ".join(f.describe() for f in faults) or None
        spec = _served_model(state, chat, faults, log)
        log.tokens_in = prompt_tokens(chat)
        if log.tokens_in > spec.context_window:
            raise Refused(
                400,
                f"This model's maximum context length is {spec.context_window} "
                f"tokens. However, your messages resulted in {log.tokens_in} tokens. "
                "Please reduce the length of the messages.",
                code="context_length_exceeded",
                param="messages",
            )
        _admit(state, wire, chat, spec, log)
        await apply_error_faults(state, wire, faults, log)
        delay = state.first_token_delay(spec, faults)
        if delay >= MIN_SLEEP:  # a sub-millisecond sleep only costs a loop turn
            await asyncio.sleep(delay)
        assert log.model_served is not None
        done = build_completion(chat, spec, log.model_served, state.seed, log.tokens_in, faults)
        if spec.caches_prompts:
            done.tokens_cached = state.prompt_cache.read(chat, spec.id, log.tokens_in)
        log.tokens_cached = done.tokens_cached
        log.tokens_out = done.tokens_out
        log.cost_usd = spec.cost(done.tokens_in, done.tokens_out, done.tokens_cached)
        log.planted = done.planted
        log.finish_reason = _spelled_finish(wire, done.finish_reason)
        rate = stream_rate(state.profile.latency_of(spec).tokens_per_second, faults)
        stream_fault = next((f for f in faults if f.stream is not None), None)
        if chat.stream:
            return await send_stream(state, wire, request, chat, done, log, rate, stream_fault)
        if stream_fault is not None and stream_fault.stream == "error_event":
            raise Refused(500, wire.default_message(500))
        return await send_whole(state, wire, request, done, log, rate, stream_fault)
    except RequestError as exc:
        return error_response(state, wire, log, exc.status, exc.message, exc.code, exc.param)
    except Refused as exc:
        return error_response(
            state, wire, log, exc.status, exc.message, exc.code, exc.param, exc.headers
        )


async def _parse(wire: Wire, request: web.Request, log: CallLog) -> ChatRequest:
    try:
        raw: Any = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise RequestError(400, "We could not parse the JSON body of your request.", None) from None
    if isinstance(raw, dict) and isinstance(raw.get("model"), str):
        log.model_requested = raw["model"]
    chat = wire.parse(raw)
    log.take_request(chat)
    return chat


def _served_model(
    state: ProviderState, chat: ChatRequest, faults: list[ProviderFault], log: CallLog
) -> ModelSpec:
    """The model that answers: the one asked for, a swapped-in one, or the default."""
    profile = state.profile
    swap = next((f.model_swap for f in faults if f.model_swap), None)
    wanted = swap or chat.model
    spec = profile.find_model(wanted)
    if spec is None and profile.unknown_models == "reject" and swap is None:
        log.model_served = None
        raise Refused(
            404,
            f"The model `{chat.model}` does not exist or you do not have access to it.",
            code="model_not_found",
            param="model",
        )
    if spec is None:
        log.model_served = wanted  # an unknown id is echoed, answered by the default model
        return profile.default
    log.model_served = spec.id
    return spec


_RATE_UNITS = {
    "requests": "requests per min (RPM)",
    "tokens": "tokens per min (TPM)",
    "input_tokens": "input tokens per min (ITPM)",
    "output_tokens": "output tokens per min (OTPM)",
}


def _admit(
    state: ProviderState, wire: Wire, chat: ChatRequest, spec: ModelSpec, log: CallLog
) -> None:
    admission = state.rate_window.admit(state.clock.now(), log.tokens_in, chat.max_tokens or 0)
    if wire.dialect == "anthropic":
        log.extra_headers.update(anthropic_headers(admission))
    else:
        log.extra_headers.update(openai_headers(admission))
    if admission.admitted:
        return
    if state.schedule.rate_limits is not None:  # the phase's limits did it: the fault's hit
        log.fault = "; ".join(filter(None, (log.fault, state.schedule.rate_refused())))
    wait = max(0.001, admission.retry_after)
    log.retry_after = float(math.ceil(wait))  # the later of the two hints below
    exceeded = admission.exceeded or "requests"  # always set when a call is refused
    limit = admission.meters[exceeded].limit
    unit = _RATE_UNITS[exceeded]
    raise Refused(
        429,
        f"Rate limit reached for {spec.id} on {unit}: Limit {limit}. "
        f"Please try again in {wait:.3g}s.",
        code="rate_limit_exceeded",
        headers={
            "retry-after": str(math.ceil(wait)),
            "retry-after-ms": str(math.ceil(wait * 1000)),
        },
    )


async def apply_error_faults(
    state: ProviderState, wire: Wire, faults: list[ProviderFault], log: CallLog
) -> None:
    for fault in faults:
        if fault.hang:
            log.hanging = True
            await state.stop_event.wait()
            log.outcome = "hung"
            raise asyncio.CancelledError  # the provider is stopping: drop the connection
        if fault.error is not None:
            headers: dict[str, str] = {}
            if fault.retry_after is not None:
                headers["retry-after"] = f"{math.ceil(fault.retry_after):d}"
                headers["retry-after-ms"] = f"{fault.retry_after * 1000:.0f}"
                log.retry_after = float(math.ceil(fault.retry_after))  # the later hint
            if fault.should_retry is not None:
                headers["x-should-retry"] = str(fault.should_retry).lower()
            if fault.fixed_latency():
                await asyncio.sleep(state.fault_latency(faults))
            message = (
                fault.message
                or state.default_message(log, fault)
                or wire.default_message(fault.error)
            )
            raise Refused(fault.error, message, code=fault.code, headers=headers)


def error_response(
    state: ProviderState,
    wire: Wire,
    log: CallLog,
    status: int,
    message: str,
    code: str | None,
    param: str | None,
    extra: dict[str, str] | None = None,
) -> web.Response:
    body = wire.error_body(
        status, marked(message, log.call_id), code, param, request_id=log.call_id
    )
    log.status = status
    log.t_first_byte = state.clock.now()
    headers = state.response_headers(wire, log)
    headers.update(extra or {})
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers=headers,
        content_type="application/json",
    )


def _spelled_finish(wire: Wire, reason: str) -> str:
    if wire.dialect == "anthropic":
        return STOP_REASONS.get(reason, "end_turn")
    return openai_finish(reason)
