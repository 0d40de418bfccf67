"""The hardened demo's operations endpoints: `GET /metrics` (Prometheus, see ai_metrics.py)
and, with the `kill_switch` defence, `GET|POST /admin/ai` (`{"enabled": false}` turns the AI
off at once: every AI endpoint answers its fallback, marked degraded, with no model call,
and note enrichment waits; `{"enabled": true}` turns it back on). Without `kill_switch`
there is no admin endpoint (404). And the bulkhead's answer when it is full: 503 with
the fallback body and `Retry-After: 1`.
"""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gaplab.demo.ai_metrics import CONTENT_TYPE
from gaplab.demo.hardened_pipeline import HardenedPipeline, log


class AiSwitch(BaseModel):
    enabled: bool


def shed_response(fallback: JSONResponse) -> JSONResponse:
    """The fallback answer as a 503: the client may retry in a second."""
    fallback.status_code = 503
    fallback.headers["Retry-After"] = "1"
    return fallback


def add_operations_routes(app: FastAPI, pipeline: HardenedPipeline) -> None:
    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(pipeline.metrics.render(), media_type=CONTENT_TYPE)

    if not pipeline.has("kill_switch"):
        return

    @app.get("/admin/ai")
    async def ai_state() -> AiSwitch:
        return AiSwitch(enabled=pipeline.ai_enabled)

    @app.post("/admin/ai")
    async def switch_ai(switch: AiSwitch) -> AiSwitch:
        if switch.enabled != pipeline.ai_enabled:
            log.warning("AI switched %s", "on" if switch.enabled else "off")
        pipeline.ai_enabled = switch.enabled
        return AiSwitch(enabled=pipeline.ai_enabled)
