"""`POST /v1/embeddings` (OpenAI shape): deterministic vectors, float or base64 encoded.

Vectors are feature-hashed bags of words (each word adds ±1 at a hashed position), then
normalised, so texts sharing words are measurably similar and the same text always gives
the same vector; `dimensions` is honoured. base64 is little-endian float32, as the SDK
(which asks for base64 by default) decodes it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import re
from array import array
from typing import Any

from aiohttp import web

from gaplab.provider.calls import RequestError
from gaplab.provider.callstate import ProviderState
from gaplab.provider.chat import Refused, apply_error_faults, error_response
from gaplab.provider.openai_wire import OpenAIWire
from gaplab.provider.schedule import CallFacts
from gaplab.provider.tokens import count_tokens

_WORDS = re.compile(r"\w+")


def embed(text: str, dimensions: int) -> list[float]:
    vector = [0.0] * dimensions
    words = _WORDS.findall(text.lower()) or [text]
    for word in words:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        vector[value % dimensions] += 1.0 if value >> 63 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _inputs(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        return [" ".join(map(str, raw))]  # one input given as token ids
    if isinstance(raw, list) and raw:
        texts: list[str] = []
        for item in raw:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, list) and all(isinstance(x, int) for x in item):
                texts.append(" ".join(map(str, item)))
            else:
                raise RequestError(
                    400, "input must be a string or an array of strings/tokens", "input"
                )
        return texts
    raise RequestError(400, "'input' is required and must not be empty", "input")


async def handle_embeddings(state: ProviderState, request: web.Request) -> web.StreamResponse:
    wire = OpenAIWire()
    log = state.begin_call("openai", request)
    task = asyncio.current_task()
    if task is not None:
        state.active[task] = log
    try:
        response = await _serve(state, wire, request, log)
        log.outcome = log.outcome or ("completed" if log.status < 400 else "error")
        return response
    except asyncio.CancelledError:
        if log.outcome is None:
            log.outcome = "hung" if state.stopping else "client_disconnected"
        raise
    finally:
        if task is not None:
            state.active.pop(task, None)
        state.finish_call(log)


async def _serve(
    state: ProviderState, wire: OpenAIWire, request: web.Request, log: Any
) -> web.StreamResponse:
    try:
        try:
            body: Any = await request.json()
        except json.JSONDecodeError:
            raise RequestError(
                400, "We could not parse the JSON body of your request.", None
            ) from None
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            raise RequestError(400, "you must provide a model parameter", "model")
        log.model_requested = body["model"]
        texts = _inputs(body.get("input"))
        user = body.get("user") if isinstance(body.get("user"), str) else None
        faults = state.schedule.firing(CallFacts("openai", body["model"], user), state.clock.now())
        log.fault = "; ".join(f.describe() for f in faults) or None
        spec = state.profile.find_model(body["model"])
        if spec is None or not spec.embedding:
            raise Refused(
                404,
                f"The model `{body['model']}` does not exist or is not an embeddings model.",
                code="model_not_found",
                param="model",
            )
        log.model_served = spec.id
        dimensions = body.get("dimensions") or spec.dimensions
        if not isinstance(dimensions, int) or not 1 <= dimensions <= spec.dimensions:
            raise RequestError(
                400, f"dimensions must be between 1 and {spec.dimensions}", "dimensions"
            )
        log.tokens_in = sum(count_tokens(t) for t in texts)
        if max(count_tokens(t) for t in texts) > spec.context_window:
            raise Refused(
                400,
                f"This model's maximum context length is {spec.context_window} tokens.",
                code="context_length_exceeded",
                param="input",
            )
        await apply_error_faults(state, wire, faults, log)
        await asyncio.sleep(state.fault_latency(faults))
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = embed(text, dimensions)
            encoded: Any = (
                base64.b64encode(array("f", vector).tobytes()).decode() if as_base64 else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        payload = {
            "object": "list",
            "data": data,
            "model": spec.id,
            "usage": {"prompt_tokens": log.tokens_in, "total_tokens": log.tokens_in},
        }
        log.cost_usd = spec.cost(log.tokens_in, 0)  # billed when answered, never for an error
        log.status = 200
        log.t_first_byte = state.clock.now()
        return web.Response(
            body=json.dumps(payload).encode(),
            content_type="application/json",
            headers=state.response_headers(wire, log),
        )
    except RequestError as exc:
        return error_response(state, wire, log, exc.status, exc.message, exc.code, exc.param)
    except Refused as exc:
        return error_response(
            state, wire, log, exc.status, exc.message, exc.code, exc.param, exc.headers
        )
