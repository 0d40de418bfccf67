"""Server-sent events as both demos write them on `/chat/stream`.

`data: {"delta": "..."}` per piece of the answer, `data: [DONE]` at the end; an explicit
failure is `event: error` with `data: {"error": "..."}` (the browser's EventSource fires
its `error` listener on it). A fixed answer (fallback, refusal, opt-out) is one event that
also carries the answer's marks (`degraded`, `refused`, `ai_generated`).
"""

from __future__ import annotations

import json
from typing import Any

MEDIA_TYPE = "text/event-stream"
HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}  # no proxy buffering
DONE = b"data: [DONE]\n\n"


def data(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


def delta(text: str) -> bytes:
    return data({"delta": text})


def error(message: str) -> bytes:
    return b"event: error\n" + data({"error": message})
