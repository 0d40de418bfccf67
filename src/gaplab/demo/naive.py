"""`demo:naive`, the afternoon demo: it works on the happy path and nowhere else.

The official SDK with its defaults (600 s timeout, 2 retries on 429/5xx), a floating model
alias, and the error handling of a first afternoon: after the SDK has tried three times, its
exception is caught and passed on as `500 {"error": str(exc)}`, the provider's own error
text included. No input screening, no output filtering, no redaction, no consent check, no
AI disclosure: whatever the model says reaches the user. No limits either: any input size,
no `max_tokens`, no cache, no quota, and a conversation is resent whole on every turn.

`/chat/stream` relays the model's deltas and stops at the first `finish_reason`; when the
upstream stream breaks it simply stops (a cut stream even ends with `[DONE]`, since the SDK
just ends). `/triage` trusts `json.loads`: invalid JSON is an unhandled 500. Adding a note
(`POST /notes`) waits for the model to summarise it, and re-enriching one calls the model
again every time. `GET /health` always says ok; there are no metrics and no kill switch.
Keep it naive; the workshop needs its failures.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import openai
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from openai import AsyncOpenAI

from gaplab.demo import sse
from gaplab.demo.conversations import Conversations, as_messages
from gaplab.demo.service import (
    FLOATING_MODEL,
    ChatRequest,
    ChatResponse,
    Note,
    TriageRequest,
    TriageResponse,
    chat_messages,
    note_messages,
    notes_router,
    triage_messages,
)


class NaiveNotes:
    """Enrichment the afternoon way: inside the write, every time it is asked for."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

    async def created(self, note: Note) -> None:
        await self.enrich(note)  # the user waits for the model to save a note

    async def enrich(self, note: Note) -> None:
        messages: Any = note_messages(note)
        completion = await self._client.chat.completions.create(
            model=FLOATING_MODEL, messages=messages
        )  # an error is an unhandled 500: the note is stored, the user is told it failed
        note.summary = completion.choices[0].message.content or ""


def create_naive_app() -> FastAPI:
    client = AsyncOpenAI()  # reads OPENAI_BASE_URL and OPENAI_API_KEY
    conversations = Conversations()  # every conversation, forever

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
        history = as_messages(conversations.turns(request.conversation_id))
        messages: Any = chat_messages(request.message, history)
        try:
            completion = await client.chat.completions.create(
                model=FLOATING_MODEL, messages=messages
            )
        except openai.APIError as exc:  # the afternoon pattern: tell the user what went wrong
            return JSONResponse({"error": str(exc)}, status_code=500)
        answer = completion.choices[0].message.content or ""
        conversations.add(request.conversation_id, request.message, answer)
        return ChatResponse(answer=answer)

    @app.post("/chat/stream", response_model=None)
    async def chat_stream(request: ChatRequest) -> StreamingResponse | JSONResponse:
        history = as_messages(conversations.turns(request.conversation_id))
        messages: Any = chat_messages(request.message, history)
        try:
            stream = await client.chat.completions.create(
                model=FLOATING_MODEL, messages=messages, stream=True
            )
        except openai.APIError as exc:
            return JSONResponse({"error": str(exc)}, status_code=500)

        async def relay() -> AsyncIterator[bytes]:
            parts: list[str] = []
            try:
                async for chunk in stream:
                    choice = chunk.choices[0] if chunk.choices else None
                    if choice is not None and choice.delta.content:
                        parts.append(choice.delta.content)
                        yield sse.delta(choice.delta.content)
                    if choice is not None and choice.finish_reason:
                        break  # the model said it is done
            except Exception:  # the stream broke: nothing more to send, so stop
                return
            finally:
                await stream.close()
                conversations.add(request.conversation_id, request.message, "".join(parts))
            yield sse.DONE

        return StreamingResponse(relay(), media_type=sse.MEDIA_TYPE, headers=sse.HEADERS)

    @app.post("/triage", response_model=TriageResponse)
    async def triage(request: TriageRequest) -> TriageResponse | JSONResponse:
        messages: Any = triage_messages(request.message)
        try:
            completion = await client.chat.completions.create(
                model=FLOATING_MODEL, messages=messages, response_format={"type": "json_object"}
            )
        except openai.APIError as exc:
            return JSONResponse({"error": str(exc)}, status_code=500)
        # We asked for JSON, so it is JSON (an exception here is an unhandled 500).
        return TriageResponse(answer=json.loads(completion.choices[0].message.content or ""))

    app.include_router(notes_router(NaiveNotes(client)))
    return app
