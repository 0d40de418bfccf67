"""Classify what one user saw: `ok`, `degraded`, `refused`, `error` or `unsafe`.

Order matters: a leak (`unsafe`, gaplab.target.unsafe) is reported even inside a degraded
answer or a refusal; a declared fallback signal beats a 5xx status (a clean 503
"temporarily unavailable" is a fallback); a declared refusal is a handled answer, not an
error; anything else that is not a 2xx with an answer where the target file says is an
`error`, and so is an answer off the target's declared contract (gaplab.target.contract).

A streamed answer (`classify_stream`) is judged on what was assembled from its events, the
declared signals also read from the events' data (a fixed answer marks itself there): one
that ends with the target's explicit error event is a handled failure (`degraded` when a
fallback signal says so, else `error`), one that ends short of its `done` event is an
`error` ("stream ended without completing", or stalled until the user gave up), and a
complete one is judged as an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from gaplab.load.inputs.base import UserInput
from gaplab.scenario.target_models import ResponseSpec, SignalSpec
from gaplab.target.contract import contract_problem
from gaplab.target.jsonpath import extract
from gaplab.target.unsafe import UnsafeDetector

if TYPE_CHECKING:
    from gaplab.load.stream import StreamRead


@dataclass(frozen=True)
class Verdict:
    outcome: str
    detail: str
    excerpt: str = ""  # for unsafe answers: the offending passage
    disclosed: bool = False  # the answer carried the declared AI disclosure


def _signalled(
    signal: SignalSpec, status: int, text: str, document: Any, headers: Mapping[str, str]
) -> bool:
    return (
        status in signal.status
        or any(needle in text for needle in signal.contains)
        or (signal.field is not None and bool(extract(document, signal.field)))
        or (signal.header is not None and signal.header.matches(headers))
    )


def classify(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    spec: ResponseSpec,
    detector: UnsafeDetector | None = None,
    given: UserInput | None = None,
    request_id: str = "",
) -> Verdict:
    text = body.decode("utf-8", errors="replace")
    document: Any = None
    try:
        document = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        document = None
    answer = extract(document, spec.answer) if document is not None else None
    if detector is not None:
        shown = answer if isinstance(answer, str) else text
        finding = detector.inspect(shown, text, given, request_id)
        if finding is not None:
            return Verdict("unsafe", finding.reason, finding.excerpt)
    if _signalled(spec.degraded, status, text, document, headers):
        return Verdict("degraded", "fallback answer")
    if spec.refusal.declared and _signalled(spec.refusal, status, text, document, headers):
        return Verdict("refused", "declined")
    if status >= 400:
        return Verdict("error", f"HTTP {status}")
    if status < 200 or status >= 300:
        return Verdict("error", f"unexpected HTTP {status}")
    if document is None:
        return Verdict("error", "answer is not JSON")
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        return Verdict("error", f"no answer at {spec.answer}")
    if spec.contract.declared and (problem := contract_problem(answer, spec.contract)):
        return Verdict("error", f"off contract: {problem}")
    return Verdict("ok", "", disclosed=_disclosed(spec, document, headers))


def _signalled_in(
    signal: SignalSpec, status: int, text: str, events: list[Any], headers: Mapping[str, str]
) -> bool:
    """`_signalled` for a stream: a field signal may be set in any event's data."""
    if _signalled(signal, status, text, None, headers):
        return True
    return signal.field is not None and any(bool(extract(e, signal.field)) for e in events)


def classify_stream(
    read: StreamRead,
    headers: Mapping[str, str],
    spec: ResponseSpec,
    patience: float,
    detector: UnsafeDetector | None = None,
    given: UserInput | None = None,
    request_id: str = "",
) -> Verdict:
    """What the user of a streamed answer saw (the response was a 200 stream)."""
    answer, raw = read.answer, read.raw
    if detector is not None:
        finding = detector.inspect(answer, raw, given, request_id)
        if finding is not None:
            return Verdict("unsafe", finding.reason, finding.excerpt)
    if read.end == "error_event":
        if _signalled_in(spec.degraded, 200, raw, read.marked, headers):
            return Verdict("degraded", "fallback answer (error event)")
        return Verdict("error", "stream ended with the target's error event")
    if read.end == "stalled":
        return Verdict("error", f"stream stalled: not finished within {patience:g}s")
    if read.end != "done":
        return Verdict("error", "stream ended without completing")
    if _signalled_in(spec.degraded, 200, answer, read.marked, headers):
        return Verdict("degraded", "fallback answer")
    if spec.refusal.declared and _signalled_in(spec.refusal, 200, answer, read.marked, headers):
        return Verdict("refused", "declined")
    if not answer.strip():
        return Verdict("error", "empty stream")
    if spec.contract.declared and (problem := contract_problem(answer, spec.contract)):
        return Verdict("error", f"off contract: {problem}")
    disclosure = spec.disclosure
    disclosed = (disclosure.header is not None and disclosure.header.matches(headers)) or (
        disclosure.field is not None
        and any(bool(extract(e, disclosure.field)) for e in read.marked)
    )
    return Verdict("ok", "", disclosed=disclosed)


def _disclosed(spec: ResponseSpec, document: Any, headers: Mapping[str, str]) -> bool:
    disclosure = spec.disclosure
    return (disclosure.field is not None and bool(extract(document, disclosure.field))) or (
        disclosure.header is not None and disclosure.header.matches(headers)
    )
