"""The Anthropic Messages wire format: request parsing (top-level system, content blocks,
required max_tokens), message bodies, the SSE event sequence and error bodies with the
`request-id` header (see reference/llm-anchors.md §3.3).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from gaplab.provider.calls import ChatRequest, Completion, RequestError
from gaplab.provider.tokens import content_text

ANTHROPIC_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    408: ("timeout_error", "Request timed out."),
    409: ("conflict_error", "The request conflicted with another request."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "Internal server error"),
    502: ("api_error", "Bad gateway"),
    503: ("api_error", "Service unavailable"),
    504: ("timeout_error", "Gateway timeout"),
    529: ("overloaded_error", "Overloaded"),
}
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "refusal": "refusal",
}


def parse_messages_request(body: Any) -> ChatRequest:
    if not isinstance(body, dict):
        raise RequestError(400, "Request body must be a JSON object", None)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "model: Field required", "model")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise RequestError(400, "max_tokens: Field required (a positive integer)", "max_tokens")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "messages: at least one message is required", "messages")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise RequestError(400, "messages: roles must be 'user' or 'assistant'", "messages")
    system = body.get("system")
    metadata = body.get("metadata")
    stops = body.get("stop_sequences") or ()
    return ChatRequest(
        dialect="anthropic",
        model=model,
        messages=tuple(messages),
        system_prompt=content_text(system) if system else None,
        max_tokens=max_tokens,
        stream=bool(body.get("stream")),
        include_usage=True,
        user=None,
        metadata=metadata if isinstance(metadata, dict) else None,
        tools=tuple(body.get("tools") or ()),
        stop=tuple(s for s in stops if isinstance(s, str)),
        tool_choice=_tool_choice(body.get("tool_choice")),
    )


def _tool_choice(choice: Any) -> str | None:
    if not isinstance(choice, dict):
        return None
    if choice.get("type") == "tool":
        return f"function:{choice.get('name')}"
    return {"any": "required", "auto": "auto", "none": "none"}.get(str(choice.get("type")))


def _event(kind: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, separators=(",", ":")).encode()
    return b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n"


@functools.lru_cache(maxsize=65_536)
def _text_delta(piece: str) -> bytes:
    """`"delta":{...}}` and the event's end, as `_event` spells them (answers reuse a
    small vocabulary of pieces, hence the cache)."""
    return b'"delta":{"type":"text_delta","text":' + json.dumps(piece).encode() + b"}}\n\n"


class AnthropicWire:
    dialect = "anthropic"
    request_id_header = "request-id"

    def parse(self, body: Any) -> ChatRequest:
        return parse_messages_request(body)

    def error_body(
        self,
        status: int,
        message: str,
        code: str | None = None,
        param: str | None = None,
        request_id: str = "",
    ) -> dict[str, Any]:
        kind = ANTHROPIC_ERRORS.get(status, ("api_error", ""))[0]
        error: dict[str, Any] = {"type": kind, "message": message}
        if code:
            error["details"] = {"error_code": code}
        return {"type": "error", "error": error, "request_id": request_id}

    def default_message(self, status: int) -> str:
        return ANTHROPIC_ERRORS.get(status, ("", "The provider returned an error."))[1]

    def completion_body(self, done: Completion, request_id: str, created: int) -> dict[str, Any]:
        return {
            "id": f"msg_{request_id.removeprefix('req_')}",
            "type": "message",
            "role": "assistant",
            "model": done.model,
            "content": content_blocks(done),
            "stop_reason": STOP_REASONS.get(done.finish_reason, "end_turn"),
            "stop_sequence": None,
            "usage": usage_body(done.tokens_in, done.tokens_out, done.tokens_cached),
        }

    def speller(
        self, done: Completion, request: ChatRequest, request_id: str, created: int
    ) -> AnthropicStreamSpeller:
        return AnthropicStreamSpeller(done, f"msg_{request_id.removeprefix('req_')}")


def content_blocks(done: Completion) -> list[dict[str, Any]]:
    text = done.refusal or (done.texts[0] if done.texts else "")
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    for call_id, name, arguments in done.tool_calls:
        try:
            tool_input: Any = json.loads(arguments)
        except json.JSONDecodeError:
            tool_input = arguments  # an invalid-arguments fault: the SDK gets what we have
        blocks.append(
            {
                "type": "tool_use",
                "id": call_id.replace("call_", "toolu_"),
                "name": name,
                "input": tool_input,
            }
        )
    return blocks


def usage_body(tokens_in: int, tokens_out: int, tokens_cached: int = 0) -> dict[str, Any]:
    """Anthropic's usage: `input_tokens` are the ones *not* read from the cache (the mock
    bills no cache writes, so `cache_creation_input_tokens` stays 0)."""
    return {
        "input_tokens": tokens_in - tokens_cached,
        "output_tokens": tokens_out,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": tokens_cached,
        "service_tier": "standard",
    }


class AnthropicStreamSpeller:
    """message_start, content blocks with deltas, message_delta, message_stop; a ping after
    the start as the real service sends."""

    def __init__(self, done: Completion, message_id: str) -> None:
        self._done = done
        self._id = message_id
        self._text_open = False
        self._next_index = 0

    def opening(self) -> bytes:
        message: dict[str, Any] = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._done.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_body(self._done.tokens_in, 1, self._done.tokens_cached),
        }
        return _event("message_start", {"type": "message_start", "message": message}) + _event(
            "ping", {"type": "ping"}
        )

    def text(self, piece: str, index: int = 0) -> bytes:
        start = b""
        if not self._text_open:
            self._text_open = True
            start = _event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": self._next_index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
        return start + _event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": self._next_index,
                "delta": {"type": "text_delta", "text": piece},
            },
        )

    def texts(self, pieces: Sequence[str], index: int = 0) -> list[bytes]:
        """`text` for each of `pieces`, the deltas spelled from a template (same bytes)."""
        if not pieces:
            return []
        first = self.text(pieces[0], index)
        head = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,' % (
            self._next_index
        )
        return [first] + [head + _text_delta(piece) for piece in pieces[1:]]

    def _close_text(self) -> bytes:
        if not self._text_open:
            return b""
        self._text_open = False
        self._next_index += 1
        return _event(
            "content_block_stop", {"type": "content_block_stop", "index": self._next_index - 1}
        )

    def tool_calls(self) -> bytes:
        parts = [self._close_text()]
        for call_id, name, arguments in self._done.tool_calls:
            index = self._next_index
            parts.append(
                _event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {
                            "type": "tool_use",
                            "id": call_id.replace("call_", "toolu_"),
                            "name": name,
                            "input": {},
                        },
                    },
                )
            )
            for start in range(0, len(arguments), 16):
                parts.append(
                    _event(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {
                                "type": "input_json_delta",
                                "partial_json": arguments[start : start + 16],
                            },
                        },
                    )
                )
            parts.append(
                _event("content_block_stop", {"type": "content_block_stop", "index": index})
            )
            self._next_index += 1
        return b"".join(parts)

    def closing(self) -> bytes:
        done = self._done
        return (
            self._close_text()
            + _event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {
                        "stop_reason": STOP_REASONS.get(done.finish_reason, "end_turn"),
                        "stop_sequence": None,
                    },
                    "usage": {"output_tokens": done.tokens_out},
                },
            )
            + _event("message_stop", {"type": "message_stop"})
        )

    def error(self, body: dict[str, Any]) -> bytes:
        return _event("error", {"type": "error", "error": body.get("error", body)})

    def out_of_order(self) -> bytes:
        """A content delta for a block that was never started (sent right after
        message_start): the SDK's MessageStream cannot accumulate it and raises."""
        return _event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": ""},
            },
        )
