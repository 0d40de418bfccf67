"""The hardened demo's `/triage`: a JSON answer that keeps its contract, or says it could not.

consent, input limit, guard and redaction as on `/chat`; then the model is asked for a JSON
object (`response_format: json_object`, the fields described in the prompt), with the
output cap and the quota. What comes back goes through:

- `output_check`: a refused, empty, cut or filtered completion -> the fallback object,
  marked degraded (no second try: it would come back the same);
- `contract` (`defences/triage_contract.py`): the text must parse and validate as a
  `Triage`; if not, one more call with a stricter prompt that says what was wrong (within
  the request's budget of three calls and its time), then the fallback object, degraded.
  Without it, `json.loads` is trusted as the naive demo trusts it (invalid JSON: a 500);
- the output stages on the summary, the one field of free text.

Fixed objects (`NON_AI_TRIAGE`, `REFUSED_TRIAGE`, `FALLBACK_TRIAGE`) keep the contract too,
so a client can always route the message.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from openai.types.chat import ChatCompletion

from gaplab.demo.ai_call import RequestBudget, describe_failure
from gaplab.demo.defences.output_check import completion_problem
from gaplab.demo.defences.quota import Throttled
from gaplab.demo.defences.triage_contract import read_triage
from gaplab.demo.hardened_pipeline import (
    Early,
    HardenedPipeline,
    error_response,
    log,
    settle,
    throttled_response,
)
from gaplab.demo.service import (
    FALLBACK_TRIAGE,
    NON_AI_TRIAGE,
    REFUSED_TRIAGE,
    TriageRequest,
    triage_messages,
)

JSON_ANSWER = {"type": "json_object"}


class _Degrade(Exception):
    """No usable triage: answer the fallback object (or, without fallback, a 503)."""

    def __init__(self, reason: str, error: Exception | None = None) -> None:
        super().__init__(reason)
        self.error = error


def add_triage_route(app: FastAPI, pipeline: HardenedPipeline) -> None:
    config = pipeline.config

    def reply(
        answer: dict[str, Any], *, ai: bool, degraded: bool = False, refused: bool = False
    ) -> JSONResponse:
        fields, headers = pipeline.marks(ai)
        body = {"answer": answer, "degraded": degraded, "refused": refused, **fields}
        return JSONResponse(body, headers=headers)

    async def ask(body: TriageRequest, messages: list[dict[str, str]], request_id: str,
                  budget: RequestBudget) -> ChatCompletion | JSONResponse:  # fmt: skip
        reservation = pipeline.reserve(body.user_id, messages)
        if isinstance(reservation, Throttled):
            return throttled_response(reservation)
        params = {**pipeline.call_params(), "response_format": JSON_ANSWER}
        try:
            completion = await pipeline.chat_ai.complete(messages, request_id, budget, **params)
        except Exception as exc:
            settle(reservation, None)
            raise _Degrade(f"AI call failed: {describe_failure(exc)}", exc) from exc
        settle(reservation, completion)
        pipeline.note_served_model(completion, request_id)
        if config.has("output_check") and (problem := completion_problem(completion)):
            raise _Degrade(f"unusable answer: {problem}")
        return completion

    def staged(answer: dict[str, Any]) -> dict[str, Any] | None:
        summary = answer.get("summary")
        if not isinstance(summary, str):
            return answer
        result = pipeline.triage_stages.apply(summary)
        if result.text is None or not result.text.strip():
            return None
        return {**answer, "summary": result.text}

    async def triage_of(body: TriageRequest, message: str, request_id: str) -> JSONResponse:
        budget = pipeline.chat_ai.budget()
        correction = ""
        for attempt in (1, 2):
            asked = await ask(body, triage_messages(message, correction), request_id, budget)
            if isinstance(asked, JSONResponse):
                return asked  # over quota
            text = (asked.choices[0].message.content or "") if asked.choices else ""
            if not config.has("contract"):
                answer: Any = json.loads(text)  # trusted, as the naive demo trusts it
                result = staged(answer) if isinstance(answer, dict) else answer
                return reply(result, ai=True) if result is not None else refused()
            reading = read_triage(text)
            if reading.triage is not None:
                result = staged(reading.triage.model_dump())
                return reply(result, ai=True) if result is not None else refused()
            log.warning(
                "request %s: triage %d off contract: %s", request_id, attempt, reading.problem
            )
            if budget.calls_left <= 0:
                break
            correction = reading.correction()
        raise _Degrade("no answer kept the contract")

    def refused() -> JSONResponse:
        return reply(REFUSED_TRIAGE, ai=False, refused=True)

    @app.post("/triage", response_model=None)
    async def triage(body: TriageRequest, request: Request) -> JSONResponse:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        screened = await pipeline.screen(body.message, body.ai_consent, request_id)
        if isinstance(screened, Early):
            if screened.kind == "ai_off":
                return reply(FALLBACK_TRIAGE, ai=False, degraded=True)
            if screened.kind == "opted_out":
                return reply(NON_AI_TRIAGE, ai=False)
            if screened.kind == "too_long":
                return error_response(413, screened.error)
            return refused()
        try:
            return await triage_of(body, screened, request_id)
        except _Degrade as degrade:
            log.warning("request %s: triage degraded: %s", request_id, degrade)
            error = degrade.error
            if error is not None and not config.has("fallback"):
                return error_response(503, str(error) or type(error).__name__)
            return reply(FALLBACK_TRIAGE, ai=False, degraded=True)
