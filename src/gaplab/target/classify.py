"""Classify what one user saw: `ok`, `degraded`, `error` or `unsafe`.

Order matters: a leak (`unsafe`) is reported even inside a degraded answer; a declared
fallback signal beats a 5xx status (a clean 503 "temporarily unavailable" is a fallback);
anything else that is not a 2xx with an answer where the target file says is an `error`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from gaplab.scenario.target_models import ResponseSpec
from gaplab.target.jsonpath import extract


@dataclass(frozen=True)
class Marker:
    """A string that must never reach a user, and what it means when it does."""

    name: str  # e.g. "provider error text", "canary"
    text: str


@dataclass(frozen=True)
class Verdict:
    outcome: str
    detail: str


def classify(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    spec: ResponseSpec,
    markers: Sequence[Marker] = (),
) -> Verdict:
    text = body.decode("utf-8", errors="replace")
    for marker in markers:
        if marker.text and marker.text in text:
            return Verdict("unsafe", f"{marker.name} reached the user")
    document: Any = None
    try:
        document = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        document = None
    degraded = spec.degraded
    if (
        status in degraded.status
        or any(needle in text for needle in degraded.contains)
        or (degraded.field is not None and bool(extract(document, degraded.field)))
        or (degraded.header is not None and degraded.header.matches(headers))
    ):
        return Verdict("degraded", "fallback answer")
    if status >= 500:
        return Verdict("error", f"HTTP {status}")
    if status >= 400:
        return Verdict("error", f"HTTP {status}")
    if status < 200 or status >= 300:
        return Verdict("error", f"unexpected HTTP {status}")
    if document is None:
        return Verdict("error", "answer is not JSON")
    answer = extract(document, spec.answer)
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        return Verdict("error", f"no answer at {spec.answer}")
    return Verdict("ok", "")
