"""The OpenAI Chat Completions wire format: request parsing, response bodies, stream chunks
and error bodies, shaped as the real service sends them (see reference/llm-anchors.md §3.1).

Pure functions over dicts; the server decides what to answer, this module only spells it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import orjson

from gaplab.provider.calls import ChatRequest, Completion, RequestError
from gaplab.provider.tokens import content_text

OPENAI_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported.",
    ),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model does not exist or you do not have access to it.",
    ),
    408: ("timeout", None, "Request timed out."),
    409: ("conflict", None, "The request conflicted with another request; please retry."),
    422: ("invalid_request_error", None, "Unprocessable request."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again later.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", "bad_gateway", "Bad gateway."),
    503: (
        "service_unavailable_error",
        "server_is_overloaded",
        "The server is overloaded or not ready yet.",
    ),
    504: ("timeout", "gateway_timeout", "Gateway timed out."),
    529: ("server_error", "overloaded", "The engine is currently overloaded, please try later."),
}
_QUOTA_CODES = {"insufficient_quota", "credit_balance_exhausted", "project_spend_limit_exceeded"}


def parse_chat_request(body: Any) -> ChatRequest:
    """A `ChatRequest` from a decoded JSON body; `RequestError` (400) when it is unusable."""
    if not isinstance(body, dict):
        raise RequestError(400, "We could not parse the JSON body of your request.", None)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "you must provide a model parameter", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "'messages' must be a non-empty array", "messages")
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
        raise RequestError(400, "every message needs a 'role'", "messages")
    system_parts = [
        content_text(m.get("content")) for m in messages if m["role"] in ("system", "developer")
    ]
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise RequestError(400, "max_tokens must be a positive integer", "max_tokens")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise RequestError(400, "seed must be an integer", "seed")
    stream_options = body.get("stream_options") or {}
    stop = body.get("stop")
    metadata = body.get("metadata")
    response_format = body.get("response_format") or {}
    return ChatRequest(
        dialect="openai",
        model=model,
        messages=tuple(messages),
        system_prompt="\n".join(system_parts) if system_parts else None,
        max_tokens=max_tokens,
        stream=bool(body.get("stream")),
        include_usage=bool(
            isinstance(stream_options, dict) and stream_options.get("include_usage")
        ),
        user=body.get("user") if isinstance(body.get("user"), str) else None,
        metadata=metadata if isinstance(metadata, dict) else None,
        tools=tuple(body.get("tools") or ()),
        n=int(body.get("n") or 1),
        stop=tuple([stop] if isinstance(stop, str) else (stop or ())),
        tool_choice=_tool_choice(body.get("tool_choice")),
        json_mode=isinstance(response_format, dict)
        and response_format.get("type") in ("json_object", "json_schema"),
        json_schema=_schema_of(response_format),
        seed=seed,
    )


def _schema_of(response_format: Any) -> dict[str, Any] | None:
    """The `schema` of a `json_schema` response format, if one is given."""
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    wrapper = response_format.get("json_schema")
    schema = wrapper.get("schema") if isinstance(wrapper, dict) else None
    return schema if isinstance(schema, dict) else None


def _tool_choice(choice: Any) -> str | None:
    if isinstance(choice, str):
        return choice
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return f"function:{choice['function'].get('name')}"
    return None


def error_body(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    default_type, default_code, _ = OPENAI_ERRORS.get(status, ("api_error", None, ""))
    if code in _QUOTA_CODES:
        default_type = "insufficient_quota"
    return {
        "error": {
            "message": message,
            "type": kind or default_type,
            "param": param,
            "code": code if code is not None else default_code,
        }
    }


def default_error_message(status: int) -> str:
    return OPENAI_ERRORS.get(status, ("", None, "The provider returned an error."))[2]


def completion_body(done: Completion, request_id: str, created: int) -> dict[str, Any]:
    choices = []
    for index, text in enumerate(done.texts):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if done.refusal else text,
            "refusal": done.refusal,
            "annotations": [],
        }
        if done.tool_calls:
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
                for call_id, name, arguments in done.tool_calls
            ]
        choices.append(
            {
                "index": index,
                "message": message,
                "logprobs": None,
                "finish_reason": openai_finish(done.finish_reason),
            }
        )
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": created,
        "model": done.model,
        "system_fingerprint": "fp_gaplab",
        "choices": choices,
        "usage": usage_body(done.tokens_in, done.tokens_out, done.tokens_cached),
        "service_tier": "default",
    }


def openai_finish(reason: str) -> str:
    """OpenAI reports a refusal in `message.refusal` with an ordinary `stop`."""
    return "stop" if reason == "refusal" else reason


def usage_body(tokens_in: int, tokens_out: int, tokens_cached: int = 0) -> dict[str, Any]:
    """OpenAI's usage: `prompt_tokens` includes the `cached_tokens` read from the cache."""
    return {
        "prompt_tokens": tokens_in,
        "completion_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
        "prompt_tokens_details": {"cached_tokens": tokens_cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


@functools.lru_cache(maxsize=65_536)
def _content_delta(index: int, key: str, text: str) -> bytes:
    """`0,"delta":{"content":"text"}`: the varying part of a content chunk. Cached because
    answers are built from a small vocabulary of pieces, so a thousand streams spell the
    same few thousand deltas over and over."""
    return b"%d" % index + b',"delta":{"' + key.encode() + b'":' + orjson.dumps(text) + b"}"


class ChunkWriter:
    """Spells the `data: {...}` events of one streamed completion."""

    def __init__(self, request_id: str, created: int, model: str, include_usage: bool) -> None:
        self._head = {
            "id": f"chatcmpl-{request_id}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_gaplab",
        }
        self._include_usage = include_usage
        # Content chunks are most of a stream: spell their fixed parts once, not per token.
        head = json.dumps(self._head, separators=(",", ":"))[:-1].encode()
        self._content_head = b"data: " + head + b',"choices":[{"index":'
        self._content_tail = b',"logprobs":null,"finish_reason":null}]' + (
            b',"usage":null}\n\n' if include_usage else b"}\n\n"
        )

    def _event(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
        chunk: dict[str, Any] = {**self._head, "choices": choices}
        if self._include_usage:
            chunk["usage"] = usage
        return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"

    def role(self, index: int = 0) -> bytes:
        delta = {"role": "assistant", "content": "", "refusal": None}
        return self._event(
            [{"index": index, "delta": delta, "logprobs": None, "finish_reason": None}]
        )

    def content(self, text: str, index: int = 0, key: str = "content") -> bytes:
        return self._content_head + _content_delta(index, key, text) + self._content_tail

    def contents(self, texts: Sequence[str], index: int = 0, key: str = "content") -> list[bytes]:
        """`content` for each of `texts`: a whole answer's chunks in one go."""
        head, tail = self._content_head, self._content_tail
        return [head + _content_delta(index, key, text) + tail for text in texts]

    def tool_call_start(self, position: int, call_id: str, name: str) -> bytes:
        delta = {
            "tool_calls": [
                {
                    "index": position,
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }
            ]
        }
        return self._event([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])

    def tool_call_arguments(self, position: int, piece: str) -> bytes:
        delta = {"tool_calls": [{"index": position, "function": {"arguments": piece}}]}
        return self._event([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])

    def finish(self, reason: str, index: int = 0) -> bytes:
        return self._event(
            [{"index": index, "delta": {}, "logprobs": None, "finish_reason": reason}]
        )

    def usage(self, tokens_in: int, tokens_out: int, tokens_cached: int = 0) -> bytes:
        if not self._include_usage:
            return b""
        return self._event([], usage_body(tokens_in, tokens_out, tokens_cached))

    @staticmethod
    def done() -> bytes:
        return b"data: [DONE]\n\n"

    @staticmethod
    def error(body: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


class OpenAIWire:
    """The OpenAI dialect as the chat handler sees it."""

    dialect = "openai"
    request_id_header = "x-request-id"

    def parse(self, body: Any) -> ChatRequest:
        return parse_chat_request(body)

    def error_body(
        self,
        status: int,
        message: str,
        code: str | None = None,
        param: str | None = None,
        request_id: str = "",
    ) -> dict[str, Any]:
        return error_body(status, message, code=code, param=param)

    def default_message(self, status: int) -> str:
        return default_error_message(status)

    def completion_body(self, done: Completion, request_id: str, created: int) -> dict[str, Any]:
        return completion_body(done, request_id, created)

    def speller(
        self, done: Completion, request: ChatRequest, request_id: str, created: int
    ) -> OpenAIStreamSpeller:
        return OpenAIStreamSpeller(
            ChunkWriter(request_id, created, done.model, request.include_usage), done
        )


class OpenAIStreamSpeller:
    """The byte events of one streamed completion: opening, text pieces, closing."""

    def __init__(self, writer: ChunkWriter, done: Completion) -> None:
        self._writer = writer
        self._done = done

    def opening(self) -> bytes:
        return b"".join(self._writer.role(index) for index in range(len(self._done.texts)))

    def text(self, piece: str, index: int = 0) -> bytes:
        return self._writer.content(piece, index, "refusal" if self._done.refusal else "content")

    def texts(self, pieces: Sequence[str], index: int = 0) -> list[bytes]:
        return self._writer.contents(pieces, index, "refusal" if self._done.refusal else "content")

    def tool_calls(self) -> bytes:
        parts = []
        for position, (call_id, name, arguments) in enumerate(self._done.tool_calls):
            parts.append(self._writer.tool_call_start(position, call_id, name))
            step = 16
            for start in range(0, len(arguments), step):
                parts.append(
                    self._writer.tool_call_arguments(position, arguments[start : start + step])
                )
        return b"".join(parts)

    def closing(self) -> bytes:
        done = self._done
        finishes = b"".join(
            self._writer.finish(openai_finish(done.finish_reason), index)
            for index in range(len(done.texts))
        )
        usage = self._writer.usage(done.tokens_in, done.tokens_out, done.tokens_cached)
        return finishes + usage + self._writer.done()

    def error(self, body: dict[str, Any]) -> bytes:
        return self._writer.error(body)

    def out_of_order(self) -> bytes:
        """The finish chunk before any content (clients that trust order get it wrong)."""
        return self._writer.finish(openai_finish(self._done.finish_reason))
