"""`demo:hardened`: the naive service with defences, each one switchable off.

A `/chat` request goes through, in this order (a defence that is off is skipped):

    consent -> input_limit -> guard -> redact (input) -> cache -> history -> quota
            -> AI call (pin, output_cap; timeout, retry, breaker) -> output_check
            -> output_filter -> redact (output) -> sanitise -> disclosure

- `consent`, `input_limit`, `guard`, `redact` (input): `hardened_pipeline.py`; an opted-out
  user gets a fixed non-AI answer, an input over the cap a 413, an injection a refusal,
  none of them a model call.
- `cache`: a repeated question outside a conversation is answered from the cache
  (`defences/answer_cache.py`), still as an AI answer.
- `history`: a conversation sends only its last turns (`defences/history.py`).
- `quota`: a user past their token budget gets a 429 with `retry_after`, no model call.
- the AI call (`ai_call.py`), then the fallback: any failure answers 200 `"degraded": true`;
  without `fallback` it is a 503 carrying the error's own text, provider message included.
- `output_check`: an empty, refused, cut or filtered completion becomes the fallback answer
  (`defences/output_check.py`).
- `output_filter`, `redact` (output), `sanitise`: `answer_stages.py`.
- `disclosure`: an AI-generated answer carries `X-AI-Generated: true` and
  `"ai_generated": true`; fixed answers say `false`.

`/chat/stream` and `/triage` are in `hardened_stream.py` and `hardened_triage.py`. The
service also forwards the caller's `x-request-id`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from openai import NOT_GIVEN, AsyncOpenAI

from gaplab.demo.ai_call import describe_failure
from gaplab.demo.ai_metrics import ShedError
from gaplab.demo.conversations import as_messages
from gaplab.demo.defences.output_check import completion_problem
from gaplab.demo.defences.quota import Throttled
from gaplab.demo.hardened_notes import HardenedNotes
from gaplab.demo.hardened_ops import add_operations_routes, shed_response
from gaplab.demo.hardened_pipeline import (
    Early,
    HardenedPipeline,
    error_response,
    log,
    settle,
    throttled_response,
)
from gaplab.demo.hardened_stream import add_stream_route
from gaplab.demo.hardened_triage import add_triage_route
from gaplab.demo.options import HardenedConfig
from gaplab.demo.service import (
    FALLBACK_ANSWER,
    NON_AI_ANSWER,
    REFUSAL_ANSWER,
    SYSTEM_PROMPT,
    ChatRequest,
    HardenedChatResponse,
    chat_messages,
    notes_router,
)

Answered = tuple[JSONResponse, str | None]  # the response, and the AI answer in it (if any)


def create_hardened_app(config: HardenedConfig | None = None) -> FastAPI:
    config = config or HardenedConfig()
    # Our retries replace the SDK's (max_retries=0) so each upstream call is counted once; the
    # SDK's own timeout is the attempt timeout, which it also announces to the provider.
    client = AsyncOpenAI(
        max_retries=0,
        timeout=config.attempt_timeout if config.has("timeout") else NOT_GIVEN,
    )
    pipeline = HardenedPipeline(config, client)
    chat_ai = pipeline.chat_ai
    cache_scope = f"{chat_ai.model}\n{SYSTEM_PROMPT}"

    notes = HardenedNotes(pipeline)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        notes.start()
        yield
        await notes.stop()
        await client.close()

    app = FastAPI(title="demo:hardened", lifespan=lifespan)
    app.state.pipeline = pipeline
    app.state.config = config

    def reply(answer: str, *, ai: bool, refused: bool = False, degraded: bool = False) -> Any:
        payload = HardenedChatResponse(answer=answer, degraded=degraded, refused=refused)
        fields, headers = pipeline.marks(ai)
        body = {**payload.model_dump(exclude_none=True), **fields}
        return JSONResponse(body, headers=headers)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        breaker = chat_ai.breaker
        state = breaker.state if breaker is not None else "none"
        troubled = state in ("open", "half_open") or not pipeline.ai_enabled
        return {
            # Without the `health` defence: "ok" whatever happens, as a first health check
            # that only proves the process answers.
            "status": "degraded" if troubled and config.has("health") else "ok",
            "breaker": state,
            "ai": "on" if pipeline.ai_enabled else "off",
            "model": chat_ai.model,
            "defences": sorted(config.defences),
        }

    add_operations_routes(app, pipeline)

    async def ask_model(body: ChatRequest, message: str, request_id: str) -> Answered:
        turns = pipeline.history(body.conversation_id)
        messages = chat_messages(message, as_messages(turns))
        reservation = pipeline.reserve(body.user_id, messages)
        if isinstance(reservation, Throttled):
            log.warning("request %s: user over quota", request_id)
            return throttled_response(reservation), None
        try:
            completion = await chat_ai.complete(messages, request_id, **pipeline.call_params())
        except ShedError:
            settle(reservation, None)
            log.warning("request %s: shed by the bulkhead", request_id)
            return shed_response(reply(FALLBACK_ANSWER, ai=False, degraded=True)), None
        except Exception as exc:
            settle(reservation, None)
            log.warning("request %s: AI call failed: %s", request_id, describe_failure(exc))
            if config.has("fallback"):
                return reply(FALLBACK_ANSWER, ai=False, degraded=True), None
            # What many services do; the lab flags the provider's text reaching the user.
            return error_response(503, str(exc) or type(exc).__name__), None
        settle(reservation, completion)
        pipeline.note_served_model(completion, request_id)
        if config.has("output_check") and (problem := completion_problem(completion)):
            log.warning("request %s: unusable answer: %s", request_id, problem)
            return reply(FALLBACK_ANSWER, ai=False, degraded=True), None
        text = (completion.choices[0].message.content or "") if completion.choices else ""
        staged = pipeline.chat_stages.apply(text)
        if staged.reason:
            log.warning("request %s: answer filtered: %s", request_id, staged.reason)
        # Refused by the filter, or nothing left once the filters took their part out.
        if staged.text is None or (staged.text != text and not staged.text.strip()):
            return reply(REFUSAL_ANSWER, ai=False, refused=True), None
        pipeline.conversations.add(body.conversation_id, message, staged.text)
        return reply(staged.text, ai=True), staged.text

    @app.post("/chat", response_model=HardenedChatResponse)
    async def chat(body: ChatRequest, request: Request) -> Any:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        screened = await pipeline.screen(body.message, body.ai_consent, request_id)
        if isinstance(screened, Early):
            if screened.kind == "ai_off":
                return reply(FALLBACK_ANSWER, ai=False, degraded=True)
            if screened.kind == "opted_out":
                return reply(NON_AI_ANSWER, ai=False)
            if screened.kind == "too_long":
                return error_response(413, screened.error)
            return reply(REFUSAL_ANSWER, ai=False, refused=True)
        cache = pipeline.cache
        if cache is None or body.conversation_id:
            response, _ = await ask_model(body, screened, request_id)
            return response
        key = cache.key(cache_scope, screened)
        cached = await cache.lookup(key)
        if cached is not None:
            log.info("request %s: answered from the cache", request_id)
            return reply(cached, ai=True)
        async with cache.filling(key) as fill:
            response, answer = await ask_model(body, screened, request_id)
            if answer is not None:
                fill.keep(answer)
            return response

    add_stream_route(app, pipeline)
    add_triage_route(app, pipeline)
    app.include_router(notes_router(notes))
    return app
