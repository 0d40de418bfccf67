"""`demo:hardened`: the naive service with defences, each one switchable off.

Time budget, careful retries and a circuit breaker live in `ai_call.py`; this module adds
the fallback (a 200 marked `"degraded": true`, or without it a plain 503 that never carries
provider text), forwards the caller's `x-request-id` and pins a dated model id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from openai import NOT_GIVEN, AsyncOpenAI

from gaplab.demo.ai_call import ResilientChat, describe_failure
from gaplab.demo.options import HardenedConfig
from gaplab.demo.service import (
    FALLBACK_ANSWER,
    PINNED_MODEL,
    ChatRequest,
    ChatResponse,
    chat_messages,
    notes_router,
)

log = logging.getLogger("gaplab.demo.hardened")
UNAVAILABLE_TEXT = "The assistant is unavailable right now.\n"


def create_hardened_app(config: HardenedConfig | None = None) -> FastAPI:
    config = config or HardenedConfig()
    # Our retries replace the SDK's (max_retries=0) so each upstream call is counted once; the
    # SDK's own timeout is the attempt timeout, which it also announces to the provider.
    client = AsyncOpenAI(
        max_retries=0,
        timeout=config.attempt_timeout if config.has("timeout") else NOT_GIVEN,
    )
    chat_ai = ResilientChat(client, PINNED_MODEL, config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.close()

    app = FastAPI(title="demo:hardened", lifespan=lifespan)
    app.state.chat_ai = chat_ai
    app.state.config = config

    @app.get("/health")
    async def health() -> dict[str, Any]:
        breaker = chat_ai.breaker
        state = breaker.state if breaker is not None else "none"
        return {
            "status": "degraded" if state in ("open", "half_open") else "ok",
            "breaker": state,
            "defences": sorted(config.defences),
        }

    @app.post("/chat", response_model=ChatResponse)
    async def chat(body: ChatRequest, request: Request) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        try:
            answer = await chat_ai.answer(chat_messages(body), request_id)
        except Exception as exc:
            log.warning("request %s: AI call failed: %s", request_id, describe_failure(exc))
            if config.has("fallback"):
                payload = ChatResponse(answer=FALLBACK_ANSWER, degraded=True)
                return JSONResponse(payload.model_dump())
            return PlainTextResponse(UNAVAILABLE_TEXT, status_code=503)
        return JSONResponse(ChatResponse(answer=answer).model_dump())

    app.include_router(notes_router())
    return app
