"""The control API under `/_lab/`: health, the active faults, and the journal.

`PUT /_lab/faults` (or POST) takes a JSON list of ProviderFault objects (or
`{"faults": [...], "span": seconds}`, the span a latency ramp moves across) and replaces the
active set; `DELETE /_lab/faults` clears it; `GET /_lab/journal?since=N&limit=M` pages
through recorded calls with a cursor; `GET /_lab/health` says the provider is up.

Browsers are kept out (`gaplab.loopback_guard`): a `Mozilla/` user agent or a Host that is
not loopback (or allowed) is a 403, and a body that is not `application/json` a 415 (a page
can send `text/plain` without a CORS preflight, never `application/json`). Only these
routes are guarded; the model endpoints (`/v1/...`) stay open to every client.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from gaplab.loopback_guard import refusal
from gaplab.provider.callstate import ProviderState
from gaplab.provider.faults import ProviderFault
from gaplab.provider.pacer_pool import PacerPool
from gaplab.scenario.durations import Duration

CONTROL_PREFIX = "/_lab"
_FAULTS = TypeAdapter(list[ProviderFault])
_SPAN = TypeAdapter(Duration)
_WITH_BODY = {"POST", "PUT", "PATCH"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def guarded(handler: Handler, allowed_hosts: frozenset[str]) -> Handler:
    """`handler` behind the browser guard: 403 for browsers and foreign Host names, 415 for
    a body that is not JSON."""

    async def guard(request: web.Request) -> web.StreamResponse:
        problem = refusal(request.headers, allowed_hosts)
        if problem is not None:
            return web.json_response({"error": problem}, status=403)
        if (request.method in _WITH_BODY or request.body_exists) and (
            request.content_type != "application/json"
        ):
            return web.json_response(
                {"error": "the control API takes JSON: send Content-Type: application/json"},
                status=415,
            )
        return await handler(request)

    return guard


def add_control_routes(
    app: web.Application, state: ProviderState, allowed_hosts: frozenset[str] = frozenset()
) -> None:
    """The `/_lab` routes; Host names other than loopback ones are refused unless in
    `allowed_hosts`."""

    async def health(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": "ok",
                "profile": state.profile.name,
                "dialect": state.profile.dialect,
                "seed": state.seed,
                "calls": state.journal.total,
                "in_flight": len(state.active),
                "stream_chunks": state.pacer.chunks_sent,
                "stream_workers": (
                    state.pacer.workers_alive if isinstance(state.pacer, PacerPool) else 0
                ),
                "stream_lateness_ms": {
                    "p50": 1000 * state.pacer.lateness_percentile(0.5),
                    "p99": 1000 * state.pacer.lateness_percentile(0.99),
                },
            }
        )

    async def get_faults(_: web.Request) -> web.Response:
        return web.json_response(_faults_payload(state))

    async def put_faults(request: web.Request) -> web.Response:
        try:
            raw: Any = await request.json()
        except json.JSONDecodeError as exc:
            return web.json_response({"error": f"invalid JSON: {exc}"}, status=400)
        span: Any = None
        if isinstance(raw, dict) and "faults" in raw:
            raw, span = raw["faults"], raw.get("span")
        if isinstance(raw, dict):
            raw = [raw]
        try:
            faults = _FAULTS.validate_python(raw)
            seconds = None if span is None else _SPAN.validate_python(span)
        except ValidationError as exc:
            errors = [
                {"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)
            ]
            return web.json_response({"error": "invalid faults", "details": errors}, status=422)
        state.set_faults(faults, seconds)
        return web.json_response(_faults_payload(state))

    async def clear_faults(_: web.Request) -> web.Response:
        state.set_faults([])
        return web.json_response(_faults_payload(state))

    async def journal(request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
            limit = int(request.query["limit"]) if "limit" in request.query else None
        except ValueError:
            return web.json_response({"error": "since and limit must be integers"}, status=400)
        page = state.journal.since(since, limit)
        return web.json_response(
            {
                "calls": [c.to_dict() for c in page.calls],
                "next": page.next,
                "dropped": page.dropped,
                "total": state.journal.total,
            }
        )

    routes: list[tuple[str, str, Handler]] = [
        ("GET", "health", health),
        ("GET", "faults", get_faults),
        ("PUT", "faults", put_faults),
        ("POST", "faults", put_faults),
        ("DELETE", "faults", clear_faults),
        ("GET", "journal", journal),
    ]
    for method, name, handler in routes:
        path, route = f"{CONTROL_PREFIX}/{name}", guarded(handler, allowed_hosts)
        if method == "GET":
            app.router.add_get(path, route)  # and HEAD
        else:
            app.router.add_route(method, path, route)


def _faults_payload(state: ProviderState) -> dict[str, Any]:
    return {
        "faults": [f.model_dump(mode="json", exclude_defaults=True) for f in state.schedule.faults],
        "counters": state.schedule.counters(),
    }
