"""Dialect-neutral shapes of one call: the request as understood, and the completion decided.

Each wire module parses its dialect into a `ChatRequest` and spells a `Completion` back, so
faults, behaviours, token accounting and the journal are written once for both dialects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gaplab.provider.tokens import content_text


class RequestError(Exception):
    """The request itself is wrong (the provider answers 4xx without any fault)."""

    def __init__(
        self, status: int, message: str, param: str | None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


@dataclass(frozen=True)
class ChatRequest:
    dialect: str
    model: str
    messages: tuple[dict[str, Any], ...]
    system_prompt: str | None
    max_tokens: int | None
    stream: bool = False
    include_usage: bool = False
    user: str | None = None
    metadata: dict[str, Any] | None = None
    tools: tuple[dict[str, Any], ...] = ()
    n: int = 1
    stop: tuple[str, ...] = ()
    json_mode: bool = False
    json_schema: dict[str, Any] | None = None  # response_format json_schema's `schema`
    tool_choice: str | None = None  # "auto" | "none" | "required" | "function:<name>"
    seed: int | None = None  # OpenAI's `seed`: same seed, same answer; another, another

    @property
    def question(self) -> str:
        """The text of the last user turn: what the answer should be about."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return content_text(message.get("content"))
        return ""

    @property
    def all_text(self) -> str:
        """Every piece of text the model received (system prompt, every turn)."""
        texts = [self.system_prompt or ""]
        texts += [content_text(m.get("content")) for m in self.messages]
        return "\n".join(t for t in texts if t)

    def correlation_user(self) -> str | None:
        if self.user:
            return self.user
        if self.metadata and isinstance(self.metadata.get("user_id"), str):
            return str(self.metadata["user_id"])
        return None


@dataclass
class Completion:
    """What the model answers: texts per choice (or tool calls), finish reason, usage."""

    model: str
    texts: list[str]
    finish_reason: str  # OpenAI spelling; Anthropic maps it to stop_reason
    tokens_in: int
    tokens_out: int
    chunks: list[list[tuple[str, float]]] = field(default_factory=list)  # per choice
    tool_calls: list[tuple[str, str, str]] = field(default_factory=list)  # id, name, args
    refusal: str | None = None
    planted: dict[str, str] = field(default_factory=dict)
    tokens_cached: int = 0  # of tokens_in, read from the prompt cache (provider.prompt_cache)
