"""Toxiproxy's HTTP API (`api.go`): same paths, methods, JSON shapes, statuses and errors.

Routing is a small table rather than aiohttp's router so that unknown paths (404 "404 page
not found") and wrong methods (405, empty body) answer exactly as gorilla/mux does, and the
403 for browser user agents and the request-id header apply to matched routes only.

Beyond Toxiproxy, a Host header that is not a loopback name or address (or one the server
was told to accept) is a 403 too: with DNS rebinding a web page could otherwise read and
drive the API (`gaplab.loopback_guard`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gaplab.loopback_guard import refusal
from gaplab.netfault.registry import Registry
from gaplab.netfault.toxics import (
    ApiError,
    decode_json,
    parse_new_toxic,
    parse_toxic_update,
)

TOXIPROXY_API_VERSION = "2.12.0"  # the Toxiproxy release whose API this server follows

Handler = Callable[[web.BaseRequest, Registry, dict[str, str]], Awaitable[web.Response]]


def _json(data: Any, status: int = 200) -> web.Response:
    body = json.dumps(data, separators=(",", ":"))
    return web.Response(body=body.encode(), status=status, content_type="application/json")


def _empty(status: int) -> web.Response:
    return web.Response(status=status)


def error_response(error: ApiError) -> web.Response:
    # Go's http.Error: text/plain content type, JSON body plus a newline.
    body = json.dumps({"error": error.message, "status": error.status}, separators=(",", ":"))
    return web.Response(
        body=(body + "\n").encode(),
        status=error.status,
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
    )


async def _body(request: web.BaseRequest) -> Any:
    return decode_json(await request.read())


async def reset_state(request: web.BaseRequest, reg: Registry, _: dict[str, str]) -> web.Response:
    await reg.reset()
    return _empty(204)


async def proxy_index(request: web.BaseRequest, reg: Registry, _: dict[str, str]) -> web.Response:
    return _json({name: proxy.to_json() for name, proxy in reg.proxies.items()})


async def proxy_create(request: web.BaseRequest, reg: Registry, _: dict[str, str]) -> web.Response:
    proxy = await reg.create(await _body(request))
    return _json(proxy.to_json(), 201)


async def populate(request: web.BaseRequest, reg: Registry, _: dict[str, str]) -> web.Response:
    try:
        proxies, error = await reg.populate(await _body(request))
    except ApiError as exc:
        proxies, error = [], exc
    data: dict[str, Any] = {}
    if error is not None:
        data = {"error": error.message, "status": error.status}
    data["proxies"] = [proxy.to_json() for proxy in proxies] or None  # Go's nil slice
    return _json(data, error.status if error is not None else 201)


async def proxy_show(request: web.BaseRequest, reg: Registry, v: dict[str, str]) -> web.Response:
    return _json(reg.get(v["proxy"]).to_json())


async def proxy_update(request: web.BaseRequest, reg: Registry, v: dict[str, str]) -> web.Response:
    proxy = reg.get(v["proxy"])
    await reg.update(proxy, await _body(request))
    return _json(proxy.to_json())


async def proxy_delete(request: web.BaseRequest, reg: Registry, v: dict[str, str]) -> web.Response:
    reg.remove(v["proxy"])
    return _empty(204)


async def toxic_index(request: web.BaseRequest, reg: Registry, v: dict[str, str]) -> web.Response:
    return _json([t.to_json() for t in reg.get(v["proxy"]).ordered_toxics()])


async def toxic_create(request: web.BaseRequest, reg: Registry, v: dict[str, str]) -> web.Response:
    proxy = reg.get(v["proxy"])
    spec = parse_new_toxic(await request.read(), {t.name for t in proxy.toxics})
    proxy.add_toxic(spec)
    return _json(spec.to_json())


async def toxic_show(request: web.BaseRequest, reg: Registry, v: dict[str, str]) -> web.Response:
    return _json(reg.get(v["proxy"]).find_toxic(v["toxic"]).to_json())


async def toxic_update(request: web.BaseRequest, reg: Registry, v: dict[str, str]) -> web.Response:
    proxy = reg.get(v["proxy"])
    spec = parse_toxic_update(await request.read(), proxy.find_toxic(v["toxic"]))
    await proxy.update_toxic(spec)
    return _json(spec.to_json())


async def toxic_delete(request: web.BaseRequest, reg: Registry, v: dict[str, str]) -> web.Response:
    await reg.get(v["proxy"]).remove_toxic(v["toxic"])
    return _empty(204)


async def version(request: web.BaseRequest, reg: Registry, _: dict[str, str]) -> web.Response:
    body = f'{{"version": "{TOXIPROXY_API_VERSION}"}}\n'.encode()
    return web.Response(body=body, headers={"Content-Type": "application/json;charset=utf-8"})


_SEGMENT = r"(?P<{}>[^/]+)"
_ROUTE_TABLE: list[tuple[str, dict[str, Handler]]] = [
    ("^/reset$", {"POST": reset_state}),
    ("^/proxies$", {"GET": proxy_index, "POST": proxy_create}),
    ("^/populate$", {"POST": populate}),
    (
        "^/proxies/{proxy}$",
        {"GET": proxy_show, "POST": proxy_update, "PATCH": proxy_update, "DELETE": proxy_delete},
    ),
    ("^/proxies/{proxy}/toxics$", {"GET": toxic_index, "POST": toxic_create}),
    (
        "^/proxies/{proxy}/toxics/{toxic}$",
        {"GET": toxic_show, "POST": toxic_update, "PATCH": toxic_update, "DELETE": toxic_delete},
    ),
    ("^/version$", {"GET": version}),
]
ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(path.format(proxy=_SEGMENT.format("proxy"), toxic=_SEGMENT.format("toxic"))), m)
    for path, m in _ROUTE_TABLE
]


def make_handler(
    registry: Registry, allowed_hosts: frozenset[str] = frozenset()
) -> Callable[[web.BaseRequest], Awaitable[web.Response]]:
    async def handle(request: web.BaseRequest) -> web.Response:
        for pattern, methods in ROUTES:
            match = pattern.match(request.path)
            if match is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                return _empty(405)
            problem = refusal(request.headers, allowed_hosts)
            if problem is not None:  # Toxiproxy's answer to a browser, for any browser
                response = web.Response(
                    text=problem + "\n", status=403, content_type="text/plain", charset="utf-8"
                )
            else:
                response = await _matched(request, registry, handler, match.groupdict())
            response.headers["X-Toxiproxy-Request-Id"] = uuid.uuid4().hex[:20]
            return response
        return web.Response(
            text="404 page not found\n", status=404, content_type="text/plain", charset="utf-8"
        )

    return handle


async def _matched(
    request: web.BaseRequest, registry: Registry, handler: Handler, params: dict[str, str]
) -> web.Response:
    try:
        return await handler(request, registry, params)
    except ApiError as exc:
        return error_response(exc)
    except Exception as exc:  # an untyped failure is Toxiproxy's 500, never a dropped request
        return error_response(ApiError(str(exc) or type(exc).__name__, 500))
