"""`demo:naive`, the afternoon demo: it works on the happy path and nowhere else.

The official SDK with its defaults (600 s timeout, 2 retries on 429/5xx), a floating model
alias, and the error handling of a first afternoon: after the SDK has tried three times, its
exception is caught and passed on as `500 {"error": str(exc)}`, the provider's own error
text included. No input screening, no output filtering, no redaction, no consent check, no
AI disclosure: whatever the model says reaches the user. Keep it naive; the workshop needs
its failures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import openai
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from openai import AsyncOpenAI

from gaplab.demo.service import (
    FLOATING_MODEL,
    ChatRequest,
    ChatResponse,
    chat_messages,
    notes_router,
)


def create_naive_app() -> FastAPI:
    client = AsyncOpenAI()  # reads OPENAI_BASE_URL and OPENAI_API_KEY

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.close()

    app = FastAPI(title="demo:naive", lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/chat", response_model=ChatResponse)
    async def chat(request: ChatRequest) -> ChatResponse | JSONResponse:
        try:
            completion = await client.chat.completions.create(
                model=FLOATING_MODEL,
                messages=chat_messages(request.message),  # type: ignore[arg-type]
            )
        except openai.APIError as exc:  # the afternoon pattern: tell the user what went wrong
            return JSONResponse({"error": str(exc)}, status_code=500)
        return ChatResponse(answer=completion.choices[0].message.content or "")

    app.include_router(notes_router())
    return app
