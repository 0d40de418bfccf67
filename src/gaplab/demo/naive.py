"""`demo:naive`, the afternoon demo: it works on the happy path and nowhere else.

The official SDK with its defaults (600 s timeout, 2 retries on 429/5xx), a floating model
alias, no error handling: a provider failure is an uncaught exception, so FastAPI answers
500, after the SDK has tried three times. Keep it naive; the workshop needs its failures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
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

    @app.post("/chat")
    async def chat(request: ChatRequest) -> ChatResponse:
        completion = await client.chat.completions.create(
            model=FLOATING_MODEL,
            messages=chat_messages(request),  # type: ignore[arg-type]
        )
        return ChatResponse(answer=completion.choices[0].message.content or "")

    app.include_router(notes_router())
    return app
