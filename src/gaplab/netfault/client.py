"""The one adapter over toxiproxy-python, used for the embedded server and a real Toxiproxy.

toxiproxy-python (PyPI 0.1.1, untouched since 2019) is synchronous and has gaps; this module
makes up for each, so that no call can hang a run and no failure passes silently:

1. The server address is global class state (`APIConsumer.host/port`): each client builds
   its own `APIConsumer` subclass bound to its URL and never mutates the library's class, so
   two servers in one process work. The library's `Proxy`/`Toxiproxy` objects (which always
   use the global consumer) are not handed out; callers get frozen `ProxyInfo`/`ToxicInfo`.
2. No timeouts anywhere: every request goes through the consumer with `timeout=(connect,
   read)`; the reachability probe is `GET /version` with that timeout, not `running()`.
3. Only 400/404/409 raise (and every 400 is called `InvalidToxic`); 403, 500 and 503 pass
   silently: the library's exceptions are mapped, and any other non-2xx status is checked
   here, all raised as `ToxiproxyError` (a `LabError`) with method, path, status and the
   server's own message. Connection failures and timeouts become `ToxiproxyError` too.
4. `add_toxic` drops the server's reply and there is no toxic update: `add_toxic` returns the
   toxic the server created and `update_toxic` sends `PATCH` (with `POST` for servers older
   than 2.6 that answer 405).
5. `populate` is client-side and non-atomic: `populate` here is the server's `POST /populate`.
6. `create` checks existence with a racy GET first: `create_proxy` POSTs and maps 409.
7. Proxy updates use the deprecated `POST`: `update_proxy` uses `PATCH` (same fallback).
8. `version()` returns raw bytes: parsed JSON here (pre-2.7 plain text tolerated).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from toxiproxy.api import APIConsumer, validate_response
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from gaplab.errors import LabError

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 10.0  # a real Toxiproxy gives up on a handler after 25 s; we do not wait that long


@dataclass
class ToxiproxyError(LabError):
    """A Toxiproxy call failed; `status` is the HTTP status, None if there was no answer."""

    status: int | None = None


@dataclass(frozen=True)
class ToxicInfo:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ToxicInfo:
        return cls(
            name=data["name"],
            type=data["type"],
            stream=data.get("stream", "downstream"),
            toxicity=float(data.get("toxicity", 1.0)),
            attributes=dict(data.get("attributes") or {}),
        )


@dataclass(frozen=True)
class ProxyInfo:
    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[ToxicInfo, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProxyInfo:
        return cls(
            name=data["name"],
            listen=data["listen"],
            upstream=data["upstream"],
            enabled=bool(data["enabled"]),
            toxics=tuple(ToxicInfo.from_json(t) for t in data.get("toxics") or ()),
        )

    @property
    def listen_address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        host = host.strip("[]")
        return ("127.0.0.1" if host in {"", "0.0.0.0", "::"} else host), int(port)


def _server_message(content: Any) -> str:
    raw = content.decode(errors="replace") if isinstance(content, bytes) else str(content)
    try:
        return str(json.loads(raw)["error"])
    except (ValueError, KeyError, TypeError):
        return raw.strip() or "(empty body)"


class ToxiproxyClient:
    """A synchronous client for one Toxiproxy server (call it off the event loop)."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.hostname is None:
            raise ToxiproxyError(f"not a Toxiproxy URL: {url!r} (expected http://host:8474)")
        self.url = f"{parts.scheme}://{parts.netloc}"
        self.timeout = (connect_timeout, read_timeout)
        # Gap 1: a consumer class of our own; the library's APIConsumer stays untouched.
        self._consumer: type[APIConsumer] = type(
            "GaplabAPIConsumer",
            (APIConsumer,),
            {"host": parts.hostname, "port": parts.port or 8474},
        )

    # -- transport ----------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None) -> requests.Response:
        kwargs: dict[str, Any] = {"timeout": self.timeout}
        if body is not None:
            kwargs["json"] = body
        response: requests.Response
        try:
            if method == "GET":
                response = self._consumer.get(path, **kwargs)
            elif method == "POST":
                response = self._consumer.post(path, **kwargs)
            elif method == "DELETE":
                response = self._consumer.delete(path, **kwargs)
            else:  # the library has no PATCH; its own validate_response still maps errors
                response = validate_response(requests.request(method, self.url + path, **kwargs))
        except (ProxyExists, NotFound, InvalidToxic) as exc:
            status = {ProxyExists: 409, NotFound: 404, InvalidToxic: 400}[type(exc)]
            raise self._error(method, path, status, _server_message(exc.args[0])) from None
        except requests.Timeout:
            raise ToxiproxyError(
                f"Toxiproxy at {self.url} did not answer {method} {path} within "
                f"{self.timeout[1]:g}s"
            ) from None
        except requests.RequestException as exc:
            raise ToxiproxyError(
                f"Toxiproxy unreachable at {self.url} ({method} {path})", [str(exc)]
            ) from None
        if not response.ok:  # gap 3: 403, 405, 500, 503... are failures too
            raise self._error(method, path, response.status_code, _server_message(response.content))
        return response

    def _error(self, method: str, path: str, status: int, message: str) -> ToxiproxyError:
        return ToxiproxyError(
            f"Toxiproxy at {self.url} refused {method} {path}: {status} {message}",
            status=status,
        )

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        response = self._call(method, path, body)
        try:
            return response.json()
        except ValueError:
            raise self._error(
                method, path, response.status_code, f"answer is not JSON: {response.text[:200]!r}"
            ) from None

    def _patch(self, path: str, body: Any) -> Any:
        try:
            return self._json("PATCH", path, body)
        except ToxiproxyError as exc:
            if exc.status != 405:
                raise
            return self._json("POST", path, body)  # servers before 2.6 only take POST

    # -- API ----------------------------------------------------------------------------
    def version(self) -> str:
        response = self._call("GET", "/version")
        try:
            return str(response.json()["version"])
        except (ValueError, KeyError, TypeError):
            return response.text.strip()

    def proxies(self) -> dict[str, ProxyInfo]:
        data = self._json("GET", "/proxies")
        return {name: ProxyInfo.from_json(proxy) for name, proxy in data.items()}

    def get_proxy(self, name: str) -> ProxyInfo:
        return ProxyInfo.from_json(self._json("GET", f"/proxies/{quote(name)}"))

    def create_proxy(
        self, name: str, upstream: str, listen: str = "127.0.0.1:0", enabled: bool = True
    ) -> ProxyInfo:
        body = {"name": name, "upstream": upstream, "listen": listen, "enabled": enabled}
        return ProxyInfo.from_json(self._json("POST", "/proxies", body))

    def update_proxy(self, name: str, **fields: Any) -> ProxyInfo:
        return ProxyInfo.from_json(self._patch(f"/proxies/{quote(name)}", fields))

    def delete_proxy(self, name: str) -> None:
        self._call("DELETE", f"/proxies/{quote(name)}")

    def populate(self, proxies: list[dict[str, Any]]) -> list[ProxyInfo]:
        data = self._json("POST", "/populate", proxies)
        return [ProxyInfo.from_json(proxy) for proxy in data.get("proxies") or ()]

    def toxics(self, proxy: str) -> list[ToxicInfo]:
        return [
            ToxicInfo.from_json(t) for t in self._json("GET", f"/proxies/{quote(proxy)}/toxics")
        ]

    def add_toxic(self, proxy: str, toxic: dict[str, Any]) -> ToxicInfo:
        return ToxicInfo.from_json(self._json("POST", f"/proxies/{quote(proxy)}/toxics", toxic))

    def update_toxic(
        self,
        proxy: str,
        name: str,
        *,
        attributes: dict[str, Any] | None = None,
        toxicity: float | None = None,
    ) -> ToxicInfo:
        body: dict[str, Any] = {}
        if attributes is not None:
            body["attributes"] = attributes
        if toxicity is not None:
            body["toxicity"] = toxicity
        return ToxicInfo.from_json(
            self._patch(f"/proxies/{quote(proxy)}/toxics/{quote(name)}", body)
        )

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call("DELETE", f"/proxies/{quote(proxy)}/toxics/{quote(name)}")

    def reset(self) -> None:
        self._call("POST", "/reset")
