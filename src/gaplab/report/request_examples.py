"""Example requests behind a verdict: what the user got, and which provider calls it caused.

For every check that failed, warned or is borderline, each example request id of its
evidence is looked up in the record (AI requests and non-AI probes): its status, outcome,
latency, detail and masked excerpt, and the provider calls `RunRecord.join()` ties to it,
with their arrival offset from the request, status, retry count, model and duration.

A check whose rule is about traffic rather than single requests (a retry storm) names no
examples; for it the requests of its phase that caused the most upstream calls are shown,
marked `"chosen": "most_calls"`, so a reader still sees one click turning into nine calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gaplab.checks.base import CheckResult, Verdict
from gaplab.engine.events import UserRequestFinished
from gaplab.engine.record import RunRecord
from gaplab.provider.journal import ProviderCall
from gaplab.report.masking import Masker

MAX_EXAMPLES = 5
MAX_CALLS = 12  # calls listed per example request; the total is always given


def wants_examples(result: CheckResult) -> bool:
    return result.verdict in (Verdict.FAIL, Verdict.WARN) or result.borderline


def _call(call: ProviderCall, request: UserRequestFinished) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "offset_s": call.t_arrival - request.started,
        "status": call.status,
        "outcome": call.outcome,
        "retry_count": call.retry_count,
        "model": call.model_requested,
        "duration_s": call.t_end - call.t_arrival,
        "fault": call.fault,
    }


def describe_request(
    record: RunRecord, request: UserRequestFinished, masker: Masker, chosen: str
) -> dict[str, Any]:
    calls = record.join().calls_for(request.request_id) if request.endpoint == "ai" else []
    return {
        "request_id": request.request_id,
        "chosen": chosen,
        "endpoint": request.endpoint,
        "input_kind": request.input_kind,
        "phase": request.phase,
        "started_s": request.started,
        "status": request.status,
        "outcome": request.outcome,
        "latency_s": request.latency,
        "detail": masker.text(request.detail),
        "excerpt": masker.text(request.excerpt),
        "calls_total": len(calls),
        "retries": sum(1 for c in calls if c.retry_count),
        "calls": [_call(c, request) for c in calls[:MAX_CALLS]],
    }


def _most_calls(record: RunRecord, phase: str | None) -> list[UserRequestFinished]:
    window = record.phase(phase) if phase else None
    if window is None:
        return []
    join = record.join()
    counted = [(len(join.calls_for(r.request_id)), r) for r in record.requests_in(window)]
    counted = [(n, r) for n, r in counted if n > 1]
    counted.sort(key=lambda item: (-item[0], item[1].started))
    return [r for _, r in counted[:3]]


def example_requests(
    record: RunRecord, results: Iterable[CheckResult], masker: Masker
) -> dict[str, list[dict[str, Any]]]:
    """Check id -> its described example requests (only checks that `wants_examples`)."""
    by_id = {r.request_id: r for r in (*record.requests, *record.probes)}
    described: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        if not wants_examples(result):
            continue
        named = [by_id[i] for i in result.evidence.examples[:MAX_EXAMPLES] if i in by_id]
        if named:
            described[result.id] = [describe_request(record, r, masker, "evidence") for r in named]
        else:
            chosen = _most_calls(record, result.evidence.phase)
            described[result.id] = [
                describe_request(record, r, masker, "most_calls") for r in chosen
            ]
    return described
