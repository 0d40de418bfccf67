"""`demo:hardened`: the naive service with defences, each one switchable off.

One chat request goes through, in this order (a defence that is off is skipped):

    consent -> guard -> redact (input) -> AI call -> output_filter -> redact (output)
            -> sanitise -> disclosure

- `consent`: a user who opted out (`"ai_consent": false`) gets a fixed non-AI answer
  (`"ai_generated": false`) and no model call.
- `guard`: an input carrying an injection or extraction attempt gets a polite refusal
  (`"refused": true`) and no model call (`defences/guard.py`).
- `redact`: personal data in the message becomes typed placeholders before the call
  (`defences/redact.py`).
- the AI call: time budget, careful retries and a circuit breaker (`ai_call.py`), then the
  fallback: any failure answers 200 `"degraded": true`; without `fallback` it is a 503
  carrying the error's own text, `{"error": str(exc)}`, provider message included.
- `output_filter`: sentences that echo the system prompt are removed; an answer that says
  it follows other instructions, or has nothing left, is replaced by the refusal
  (`defences/output_filter.py`).
- `redact` again, on the answer: personal data the model emitted does not reach the user.
- `sanitise`: links and images to hosts other than the shop's, and any HTML, are
  neutralised (`defences/sanitise.py`).
- `disclosure`: an AI-generated answer carries `X-AI-Generated: true` and
  `"ai_generated": true`; fixed answers say `false`.

Only model text goes through the output stages; fixed texts (refusal, fallback, opt-out
answer) are the service's own. The service also forwards the caller's `x-request-id` and
pins a dated model id.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from openai import NOT_GIVEN, AsyncOpenAI

from gaplab.demo.ai_call import ResilientChat, describe_failure
from gaplab.demo.contract import DISCLOSURE_HEADER, SHOP_HOST
from gaplab.demo.defences.guard import screen
from gaplab.demo.defences.output_filter import filter_answer
from gaplab.demo.defences.redact import redact
from gaplab.demo.defences.sanitise import sanitise_answer
from gaplab.demo.options import HardenedConfig
from gaplab.demo.service import (
    FALLBACK_ANSWER,
    NON_AI_ANSWER,
    PINNED_MODEL,
    REFUSAL_ANSWER,
    SYSTEM_PROMPT,
    ChatRequest,
    HardenedChatResponse,
    chat_messages,
    notes_router,
)

log = logging.getLogger("gaplab.demo.hardened")
LONG_INPUT = 4_000  # characters; screening a longer input (a pasted document) takes ms
LINK_HOSTS = (SHOP_HOST,)
OWN_DOMAINS = (SHOP_HOST,)  # the shop's role addresses are not personal data
T = TypeVar("T")


async def off_loop(work: Callable[..., T], text: str, *args: Any) -> T:
    """`work(text, *args)`, in a worker thread when `text` is long: screening a 50-page
    document takes a noticeable fraction of a second, and the event loop must keep serving
    the other requests (the notes endpoints above all) meanwhile."""
    if len(text) < LONG_INPUT:
        return work(text, *args)
    return await asyncio.to_thread(work, text, *args)


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

    def reply(answer: str, *, ai: bool, refused: bool = False, degraded: bool = False) -> Any:
        payload = HardenedChatResponse(answer=answer, degraded=degraded, refused=refused)
        headers: dict[str, str] = {}
        if not ai:
            payload.ai_generated = False  # fixed texts are never mistaken for a model's
        if config.has("disclosure"):
            payload.ai_generated = ai
            headers[DISCLOSURE_HEADER] = "true" if ai else "false"
        return JSONResponse(payload.model_dump(exclude_none=True), headers=headers)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        breaker = chat_ai.breaker
        state = breaker.state if breaker is not None else "none"
        return {
            "status": "degraded" if state in ("open", "half_open") else "ok",
            "breaker": state,
            "defences": sorted(config.defences),
        }

    @app.post("/chat", response_model=HardenedChatResponse)
    async def chat(body: ChatRequest, request: Request) -> Any:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        if config.has("consent") and not body.ai_consent:
            log.info("request %s: user opted out of AI processing", request_id)
            return reply(NON_AI_ANSWER, ai=False)
        if config.has("guard") and (hit := await off_loop(screen, body.message)) is not None:
            log.warning("request %s: input refused: %s", request_id, hit.describe())
            return reply(REFUSAL_ANSWER, ai=False, refused=True)
        message = body.message
        if config.has("redact"):
            message = (await off_loop(redact, message, OWN_DOMAINS)).text
        try:
            answer = await chat_ai.answer(chat_messages(message), request_id)
        except Exception as exc:
            log.warning("request %s: AI call failed: %s", request_id, describe_failure(exc))
            if config.has("fallback"):
                return reply(FALLBACK_ANSWER, ai=False, degraded=True)
            # What many services do; the lab flags the provider's text reaching the user.
            return JSONResponse({"error": str(exc) or type(exc).__name__}, status_code=503)
        if config.has("output_filter"):
            decision = filter_answer(answer, SYSTEM_PROMPT)
            if decision.answer is None:
                log.warning("request %s: answer refused: %s", request_id, decision.reason)
                return reply(REFUSAL_ANSWER, ai=False, refused=True)
            if decision.reason:
                log.warning("request %s: answer filtered: %s", request_id, decision.reason)
            answer = decision.answer
        if config.has("redact"):
            answer = redact(answer, OWN_DOMAINS).text
        if config.has("sanitise"):
            answer = sanitise_answer(answer, LINK_HOSTS)
        if not answer.strip():  # the answer was nothing but what the filters took out
            return reply(REFUSAL_ANSWER, ai=False, refused=True)
        return reply(answer, ai=True)

    app.include_router(notes_router())
    return app
