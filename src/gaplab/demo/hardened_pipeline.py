"""What every hardened endpoint shares: the checks before the model call, the quota, the
call parameters, the output stages and the answer marks.

Before the call, in this order (each skipped when its defence is off):

    consent -> input_limit -> guard -> redact (input)

`screen` returns the message to send, or an `Early` answer decided without the model
(opted out, too long, refused). Then, per endpoint, the cache (`/chat` only), the
conversation history (`history`), the quota reservation (`reserve`), the AI call with
`call_params` (`output_cap`) on the model `pin` chose, and after it the output check and
the output stages (`answer_stages.py`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from fastapi.responses import JSONResponse
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion

from gaplab.demo.ai_call import ResilientChat
from gaplab.demo.ai_metrics import AiMetrics, Bulkhead
from gaplab.demo.answer_stages import OWN_DOMAINS, OutputStages
from gaplab.demo.contract import DISCLOSURE_HEADER
from gaplab.demo.conversations import Conversations, Turn
from gaplab.demo.defences.answer_cache import AnswerCache
from gaplab.demo.defences.guard import screen
from gaplab.demo.defences.history import bounded_history
from gaplab.demo.defences.input_limit import check_input
from gaplab.demo.defences.quota import Reservation, Throttled, TokenQuota
from gaplab.demo.defences.redact import redact
from gaplab.demo.options import HardenedConfig
from gaplab.demo.service import FLOATING_MODEL, PINNED_MODEL, SYSTEM_PROMPT, TRIAGE_PROMPT
from gaplab.demo.token_estimate import estimate_messages

log = logging.getLogger("gaplab.demo.hardened")
LONG_INPUT = 4_000  # characters; screening a longer input (a pasted document) takes ms
T = TypeVar("T")


async def off_loop(work: Callable[..., T], text: str, *args: Any) -> T:
    """`work(text, *args)`, in a worker thread when `text` is long: screening a 50-page
    document takes a noticeable fraction of a second, and the event loop must keep serving
    the other requests (the notes endpoints above all) meanwhile."""
    if len(text) < LONG_INPUT:
        return work(text, *args)
    return await asyncio.to_thread(work, text, *args)


@dataclass(frozen=True)
class Early:
    """An answer decided before any model call."""

    kind: Literal["opted_out", "too_long", "refused", "ai_off"]
    error: str = ""  # for too_long: what the user is told


def error_response(status: int, message: str, retry_after: int | None = None) -> JSONResponse:
    """A clean error of our own (never the provider's text)."""
    if retry_after is None:
        return JSONResponse({"error": message}, status_code=status)
    return JSONResponse(
        {"error": message, "retry_after": retry_after},
        status_code=status,
        headers={"Retry-After": str(retry_after)},
    )


def throttled_response(throttled: Throttled) -> JSONResponse:
    return error_response(429, throttled.message(), throttled.retry_after)


class HardenedPipeline:
    def __init__(self, config: HardenedConfig, client: AsyncOpenAI) -> None:
        self.config = config
        model = PINNED_MODEL if config.has("pin") else FLOATING_MODEL
        self.chat_ai = ResilientChat(client, model, config)
        self.metrics = AiMetrics(config.has("metrics"))
        self.chat_ai.metrics = self.metrics
        if config.has("bulkhead"):
            self.chat_ai.bulkhead = Bulkhead(config.concurrency)
        self.ai_enabled = True  # the kill switch (`POST /admin/ai`)
        self.cache = (
            AnswerCache(config.cache_ttl, config.cache_size) if config.has("cache") else None
        )
        self.quota = TokenQuota(config.quota_tokens) if config.has("quota") else None
        self.conversations = Conversations.bounded()
        self.chat_stages = OutputStages(config, SYSTEM_PROMPT)
        self.triage_stages = OutputStages(config, TRIAGE_PROMPT)

    def has(self, defence: str) -> bool:
        return self.config.has(defence)

    async def screen(self, message: str, consent: bool, request_id: str) -> Early | str:
        """The message to send to the model, or the answer to give without it."""
        if not self.ai_enabled:
            return Early("ai_off")
        if self.has("consent") and not consent:
            log.info("request %s: user opted out of AI processing", request_id)
            return Early("opted_out")
        if self.has("input_limit") and (too_long := check_input(message, self.config.input_tokens)):
            log.warning("request %s: input refused: %d tokens", request_id, too_long.tokens)
            return Early("too_long", too_long.message())
        if self.has("guard") and (hit := await off_loop(screen, message)) is not None:
            log.warning("request %s: input refused: %s", request_id, hit.describe())
            return Early("refused")
        if self.has("redact"):
            message = (await off_loop(redact, message, OWN_DOMAINS)).text
        return message

    def history(self, conversation_id: str) -> list[Turn]:
        """The turns of the conversation to send with its next message."""
        turns = self.conversations.turns(conversation_id)
        if self.has("history"):
            return bounded_history(turns, self.config.history_turns, self.config.history_tokens)
        return turns

    def reserve(self, user: str, messages: list[dict[str, str]]) -> Reservation | Throttled | None:
        """Set aside what the call may cost the user (None: no quota)."""
        if self.quota is None:
            return None
        estimate = estimate_messages(messages) + self.config.output_tokens
        return self.quota.reserve(user, estimate)

    def call_params(self) -> dict[str, Any]:
        if self.has("output_cap"):
            return {"max_completion_tokens": self.config.output_tokens}
        return {}

    def note_served_model(self, completion: ChatCompletion | None, request_id: str) -> None:
        served = None if completion is None else completion.model
        if self.has("pin") and served and served != self.chat_ai.model:
            log.warning(
                "request %s: asked for %s, the provider served %s",
                request_id,
                self.chat_ai.model,
                served,
            )

    def marks(self, ai: bool) -> tuple[dict[str, Any], dict[str, str]]:
        """The `ai_generated` field and the disclosure header of an answer."""
        if self.has("disclosure"):
            return {"ai_generated": ai}, {DISCLOSURE_HEADER: "true" if ai else "false"}
        # Fixed texts are never mistaken for a model's, even without the disclosure defence.
        return ({} if ai else {"ai_generated": False}), {}


def settle(reservation: Reservation | Throttled | None, completion: ChatCompletion | None) -> None:
    """Book what the provider reported for the call (nothing when it failed)."""
    if isinstance(reservation, Reservation):
        usage = None if completion is None else completion.usage
        reservation.settle(0 if completion is None else (usage.total_tokens if usage else None))
