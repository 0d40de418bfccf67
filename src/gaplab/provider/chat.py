"""One chat call from arrival to journal record, for either dialect.

Order of decisions: parse, pick the firing faults, resolve the model, account the prompt
(context window), then the fault's error or hang, then latency, then the answer (whole or
streamed on a per-token schedule). Whatever happens, exactly one `ProviderCall` is recorded
when the call ends, including when the client leaves or the provider stops mid-call.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from gaplab.provider.behaviour import build_completion, prompt_tokens
from gaplab.provider.calls import ChatRequest, Completion, RequestError
from gaplab.provider.callstate import CallLog, ProviderState, Wire
from gaplab.provider.faults import ProviderFault
from gaplab.provider.markers import marked
from gaplab.provider.schedule import CallFacts


class _Refused(Exception):
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
        log.outcome = log.outcome or ("completed" if log.status < 400 else "error")
        return response
    except asyncio.CancelledError:
        if log.outcome is None:
            log.outcome = "hung" if state.stopping else "client_disconnected"
        raise
    except (ConnectionResetError, ConnectionError):
        log.outcome = "client_disconnected"
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
        facts = CallFacts(wire.dialect, chat.model, chat.correlation_user())
        faults = state.schedule.firing(facts, state.clock.now())
        log.fault = "; ".join(f.describe() for f in faults) or None
        spec = state.profile.find_model(chat.model)
        if spec is None and state.profile.unknown_models == "reject":
            raise _Refused(
                404,
                f"The model `{chat.model}` does not exist or you do not have access to it.",
                code="model_not_found",
                param="model",
            )
        spec = spec or state.profile.default
        log.model_served = (
            spec.id if spec.id == chat.model or chat.model in spec.aliases else chat.model
        )
        log.tokens_in = prompt_tokens(chat)
        if log.tokens_in > spec.context_window:
            raise _Refused(
                400,
                f"This model's maximum context length is {spec.context_window} "
                f"tokens. However, your messages resulted in {log.tokens_in} tokens. "
                "Please reduce the length of the messages.",
                code="context_length_exceeded",
                param="messages",
            )
        await _apply_error_faults(state, wire, faults, log)
        await asyncio.sleep(state.first_token_delay(spec, faults))
        done = build_completion(chat, spec, log.model_served, state.seed, log.tokens_in)
        log.tokens_out, log.cost_usd = done.tokens_out, spec.cost(done.tokens_in, done.tokens_out)
        if chat.stream:
            return await _stream(state, wire, request, chat, done, log, spec)
        body = wire.completion_body(done, log.call_id, int(time.time()))
        return _json_response(state, wire, log, 200, body)
    except RequestError as exc:
        body = wire.error_body(exc.status, marked(exc.message, log.call_id), exc.code, exc.param)
        return _json_response(state, wire, log, exc.status, body)
    except _Refused as exc:
        body = wire.error_body(exc.status, marked(exc.message, log.call_id), exc.code, exc.param)
        return _json_response(state, wire, log, exc.status, body, exc.headers)


async def _parse(wire: Wire, request: web.Request, log: CallLog) -> ChatRequest:
    try:
        raw: Any = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RequestError(400, "We could not parse the JSON body of your request.", None) from None
    if isinstance(raw, dict):
        log.model_requested = raw.get("model") if isinstance(raw.get("model"), str) else None
    chat = wire.parse(raw)
    log.take_request(chat)
    return chat


async def _apply_error_faults(
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
                headers["retry-after"] = f"{max(0, round(fault.retry_after)):d}"
                headers["retry-after-ms"] = f"{fault.retry_after * 1000:.0f}"
            if fault.latency:
                await asyncio.sleep(state.fault_latency(faults))
            message = (
                fault.message
                or state.default_message(log, fault)
                or wire.default_message(fault.error)
            )
            raise _Refused(fault.error, message, code=fault.code, headers=headers)


def _json_response(
    state: ProviderState,
    wire: Wire,
    log: CallLog,
    status: int,
    body: dict[str, Any],
    extra: dict[str, str] | None = None,
) -> web.Response:
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


async def _stream(
    state: ProviderState,
    wire: Wire,
    request: web.Request,
    chat: ChatRequest,
    done: Completion,
    log: CallLog,
    spec: Any,
) -> web.StreamResponse:
    response = web.StreamResponse(status=200, headers=state.response_headers(wire, log))
    response.content_type = "text/event-stream"
    response.charset = "utf-8"
    response.headers["cache-control"] = "no-cache"
    log.status = 200
    await response.prepare(request)
    speller = wire.speller(done, chat, log.call_id, int(time.time()))
    log.t_first_byte = state.clock.now()
    await response.write(speller.opening())
    rate = state.profile.latency_of(spec).tokens_per_second
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent_tokens = 0
    for index, chunks in enumerate(done.chunks):
        pending: list[bytes] = []
        for piece, tokens in chunks:
            sent_tokens += tokens
            delay = start + sent_tokens / rate - loop.time()
            if delay > 0:
                # Whatever is already due goes out in one write, so a busy loop catches up.
                if pending:
                    await response.write(b"".join(pending))
                    pending.clear()
                await asyncio.sleep(delay)
            pending.append(speller.text(piece, index))
        if pending:
            await response.write(b"".join(pending))
    if done.tool_calls:
        await response.write(speller.tool_calls())
    await response.write(speller.closing())
    await response.write_eof()
    return response
