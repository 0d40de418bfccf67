"""The hardened demo's `/chat/stream`: the `/chat` pipeline, answered as server-sent events.

Before the stream starts: consent, input limit, guard, redaction, history and quota as on
`/chat` (a 413 or 429 is an ordinary JSON error; a fixed answer is one event, marked); the
stream is opened with `stream=True` inside the time budget, retries and breaker, and when
it cannot be opened the user gets the fallback as one event marked degraded (without
`fallback`: a 503). Once open, the provider's chunks go through:

- `stream_guard` (`defences/stream_guard.py`): a cut, stalled, malformed, errored or
  out-of-order stream ends the user's stream with `event: error`; without it, the naive
  relay (stop at the first finish, stop silently when the SDK raises);
- the output stages, sentence by sentence (`answer_stages.py`), when any is on;
- `output_check` at the end: a refusal or no text at all becomes the fallback event
  (degraded), an answer cut by `length` or `content_filter` ends with `event: error`.

The quota is settled with the `usage` the provider reports at the end of the stream
(`stream_options.include_usage`); a broken stream keeps its estimate.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from gaplab.demo import sse
from gaplab.demo.ai_call import UpstreamStream, describe_failure
from gaplab.demo.answer_stages import SentenceRelease
from gaplab.demo.conversations import as_messages
from gaplab.demo.defences.output_check import stream_problem
from gaplab.demo.defences.quota import Reservation, Throttled
from gaplab.demo.defences.stream_guard import StreamBroken, guarded, unguarded
from gaplab.demo.hardened_pipeline import (
    Early,
    HardenedPipeline,
    error_response,
    log,
    settle,
    throttled_response,
)
from gaplab.demo.service import (
    FALLBACK_ANSWER,
    NON_AI_ANSWER,
    REFUSAL_ANSWER,
    ChatRequest,
    chat_messages,
)

INTERRUPTED = "The answer was interrupted before it was complete. Please try again."
WITHDRAWN = "The answer was withdrawn before it was complete. Please ask again."
CUT_SHORT = "The answer was cut short. Please ask again, perhaps more narrowly."


def add_stream_route(app: FastAPI, pipeline: HardenedPipeline) -> None:
    config = pipeline.config

    def fixed(text: str, *, degraded: bool = False, refused: bool = False) -> StreamingResponse:
        fields, headers = pipeline.marks(ai=False)
        event = sse.data({"delta": text, "degraded": degraded, "refused": refused, **fields})

        async def events() -> AsyncIterator[bytes]:
            yield event
            yield sse.DONE

        return StreamingResponse(
            events(), media_type=sse.MEDIA_TYPE, headers={**sse.HEADERS, **headers}
        )

    @app.post("/chat/stream", response_model=None)
    async def chat_stream(body: ChatRequest, request: Request) -> StreamingResponse | JSONResponse:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        screened = await pipeline.screen(body.message, body.ai_consent, request_id)
        if isinstance(screened, Early):
            if screened.kind == "ai_off":
                return fixed(FALLBACK_ANSWER, degraded=True)
            if screened.kind == "opted_out":
                return fixed(NON_AI_ANSWER)
            if screened.kind == "too_long":
                return error_response(413, screened.error)
            return fixed(REFUSAL_ANSWER, refused=True)
        messages = chat_messages(screened, as_messages(pipeline.history(body.conversation_id)))
        reservation = pipeline.reserve(body.user_id, messages)
        if isinstance(reservation, Throttled):
            return throttled_response(reservation)
        params: dict[str, Any] = {**pipeline.call_params()}
        if config.has("quota") or config.has("metrics"):
            # The quota and the token counters count the usage the provider reports.
            params["stream_options"] = {"include_usage": True}
        try:
            upstream = await pipeline.chat_ai.open_stream(messages, request_id, **params)
        except Exception as exc:
            settle(reservation, None)
            log.warning("request %s: AI stream failed: %s", request_id, describe_failure(exc))
            if config.has("fallback"):
                return fixed(FALLBACK_ANSWER, degraded=True)
            return error_response(503, str(exc) or type(exc).__name__)
        _, headers = pipeline.marks(ai=True)
        relay = StreamRelay(pipeline, upstream, reservation, request_id)
        events = relay.events(body.conversation_id, screened)
        return StreamingResponse(
            events, media_type=sse.MEDIA_TYPE, headers={**sse.HEADERS, **headers}
        )


class StreamRelay:
    """One opened provider stream, relayed to the user as events."""

    def __init__(
        self,
        pipeline: HardenedPipeline,
        upstream: UpstreamStream,
        reservation: Reservation | None,
        request_id: str,
    ) -> None:
        self._pipeline, self._upstream = pipeline, upstream
        self._reservation, self._request_id = reservation, request_id
        self._stages = pipeline.chat_stages
        self._release = SentenceRelease() if self._stages.active else None
        self.sent: list[str] = []  # what the user got, after the output stages
        self.received: list[str] = []  # what the model said
        self.finish_reason: str | None = None
        self.refused = False
        self.usage: int | None = None

    async def events(self, conversation_id: str, question: str) -> AsyncIterator[bytes]:
        config = self._pipeline.config
        ok = False
        try:
            async for event in self._relay(config.has("stream_guard"), config.stall_timeout):
                yield event
            problem = stream_problem("".join(self.received), self.finish_reason, self.refused)
            if config.has("output_check") and problem:
                log.warning("request %s: unusable streamed answer: %s", self._request_id, problem)
                ok = True  # the provider answered; the answer was the problem
                yield self._bad_output_ending()
                return
            ok = True
            self._pipeline.conversations.add(conversation_id, question, "".join(self.sent))
            yield sse.DONE
        except StreamBroken as broken:
            log.warning("request %s: stream broken: %s", self._request_id, broken)
            yield sse.error(INTERRUPTED)
        except _Withdrawn as withdrawn:
            log.warning("request %s: streamed answer withdrawn: %s", self._request_id, withdrawn)
            ok = True
            yield sse.error(WITHDRAWN)
        except Exception as exc:  # only without the stream guard: stop, as the naive relay
            log.warning("request %s: stream ended: %s", self._request_id, describe_failure(exc))
        except (asyncio.CancelledError, GeneratorExit):
            ok = True  # the user left: no fault of the provider's
            raise
        finally:
            await self._upstream.close(ok)
            if self._reservation is not None:
                self._reservation.settle(self.usage)  # None (no usage seen): keep the estimate

    def _bad_output_ending(self) -> bytes:
        if not "".join(self.sent).strip():  # nothing shown yet: the fallback, marked
            fields, _ = self._pipeline.marks(ai=False)
            return sse.data({"delta": FALLBACK_ANSWER, "degraded": True, **fields}) + sse.DONE
        return sse.error(CUT_SHORT)

    async def _relay(self, guard: bool, stall_timeout: float) -> AsyncIterator[bytes]:
        chunks = self._upstream.chunks
        source = guarded(chunks, stall_timeout) if guard else unguarded(chunks)
        async for chunk in source:
            if chunk.usage is not None:
                self.usage = chunk.usage.total_tokens
                self._pipeline.metrics.count_tokens(chunk.model, chunk.usage)
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            self.finish_reason = choice.finish_reason or self.finish_reason
            if choice.delta.refusal:
                self.refused = True
            text = choice.delta.content
            if not text:
                continue
            self.received.append(text)
            for piece in self._release.feed(text) if self._release else [text]:
                if (shown := self._stage(piece)) is not None:
                    yield shown
        for piece in self._release.flush() if self._release else []:
            if (shown := self._stage(piece)) is not None:
                yield shown

    def _stage(self, piece: str) -> bytes | None:
        if self._release is None:
            self.sent.append(piece)
            return sse.delta(piece)
        staged = self._stages.apply_sentence(piece)
        if staged.text is None:
            raise _Withdrawn(staged.reason)
        if staged.reason:
            log.warning("request %s: streamed answer filtered: %s", self._request_id, staged.reason)
        if not staged.text:
            return None
        self.sent.append(staged.text)
        return sse.delta(staged.text)


class _Withdrawn(Exception):
    """The output filter withdrew a streamed answer part-way."""
