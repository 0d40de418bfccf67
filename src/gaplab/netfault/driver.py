"""What the engine calls: route traffic through proxies and turn a phase's faults into toxics.

`NetworkFaults` talks to the embedded server (started on its own thread) or to a real
Toxiproxy through the same adapter (`gaplab.netfault.client`). The adapter is synchronous,
so every call runs in a worker thread under a deadline: no call can hang a run, and every
failure is a `LabError` that says which server and which call.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from gaplab.errors import LabError
from gaplab.netfault.client import ToxicInfo, ToxiproxyClient
from gaplab.netfault.server import EmbeddedToxiproxy
from gaplab.netfault.spec import NetworkFault

log = logging.getLogger(__name__)
T = TypeVar("T")
CALL_DEADLINE = 15.0  # above the adapter's own connect + read timeouts
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def desired_toxics(faults: Sequence[NetworkFault]) -> dict[str, dict[str, Any]]:
    """Toxic bodies by name; two faults of one type and stream get `_2`, `_3` suffixes."""
    toxics: dict[str, dict[str, Any]] = {}
    for fault in faults:
        if fault.down:
            continue
        body = fault.to_toxic()
        name, n = body["name"], 1
        while name in toxics:
            n += 1
            name = f"{body['name']}_{n}"
        toxics[name] = {**body, "name": name}
    return toxics


class NetworkFaults:
    """Proxies on the provider path, and the network faults active on them."""

    def __init__(self, *, toxiproxy_url: str | None = None, seed: int = 1) -> None:
        self._url = toxiproxy_url
        self._seed = seed
        self._embedded: EmbeddedToxiproxy | None = None
        self._client: ToxiproxyClient | None = None
        self._proxies: dict[str, str] = {}  # route name -> proxy name on the server
        self._active: dict[str, dict[str, ToxicInfo]] = {}
        self._enabled: dict[str, bool] = {}
        self._applied: list[str | None] = []  # toxic name of each applied fault (None: down)
        self._hits_at_apply: dict[str, int] = {}
        self.api_url = ""

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args, **kwargs), CALL_DEADLINE)
        except TimeoutError:
            raise LabError(
                f"Toxiproxy at {self.api_url} did not finish {fn.__name__} within "
                f"{CALL_DEADLINE:g}s"
            ) from None

    @property
    def client(self) -> ToxiproxyClient:
        if self._client is None:
            raise LabError("network faults used before start()")
        return self._client

    async def start(self) -> None:
        if self._url is None:
            self._embedded = EmbeddedToxiproxy(port=0, seed=self._seed)
            await asyncio.to_thread(self._embedded.start)
            self.api_url = self._embedded.url
        else:
            self.api_url = self._url.rstrip("/")
        self._client = ToxiproxyClient(self.api_url)
        self.api_url = self._client.url
        try:
            version = await self._call(self._client.version)
        except LabError:
            await self.close()
            raise
        log.info("network faults through Toxiproxy %s at %s", version, self.api_url)

    async def route(self, name: str, upstream_host: str, upstream_port: int) -> tuple[str, int]:
        """A proxy to `upstream`; returns where clients should connect instead."""
        api_host = urlsplit(self.api_url).hostname or "127.0.0.1"
        if self._embedded is not None:
            proxy_name, listen = name, "127.0.0.1:0"
        else:
            # A shared server may hold proxies of other runs: ours get a unique name, and
            # listen where this machine can reach them.
            proxy_name = f"gaplab-{name}-{uuid.uuid4().hex[:8]}"
            listen = "127.0.0.1:0" if api_host in LOOPBACK else "0.0.0.0:0"
        upstream = f"{upstream_host}:{upstream_port}"
        proxy = await self._call(self.client.create_proxy, proxy_name, upstream, listen)
        self._proxies[name] = proxy.name
        self._active[proxy.name] = {}
        self._enabled[proxy.name] = True
        host, port = proxy.listen_address
        if listen.startswith("0.0.0.0"):
            host = api_host
        return host, port

    def _toxic_hits(self) -> dict[str, int] | None:
        """Connections each toxic name was drawn active on, summed over our proxies (the
        embedded server only: a real Toxiproxy does not count)."""
        if self._embedded is None:
            return None
        registry = self._embedded.server.registry
        hits: dict[str, int] = {}
        for proxy_name in self._proxies.values():
            for name, count in dict(registry.get(proxy_name).toxic_hits).items():
                hits[name] = hits.get(name, 0) + count
        return hits

    def coverage(self) -> list[int | None]:
        """For each fault of the last `apply`, the connections it hit since then; None where
        that cannot be counted (`down`: refused connections never reach the proxy; a real
        Toxiproxy keeps no counts)."""
        hits = self._toxic_hits()
        return [
            None
            if name is None or hits is None
            else hits.get(name, 0) - self._hits_at_apply.get(name, 0)
            for name in self._applied
        ]

    async def apply(self, faults: Sequence[NetworkFault]) -> None:
        """Make `faults` the active toxics and down state of every routed proxy."""
        wanted = desired_toxics(faults)
        names = iter(wanted)
        self._applied = [None if fault.down else next(names) for fault in faults]
        self._hits_at_apply = self._toxic_hits() or {}
        enabled = not any(fault.down for fault in faults)
        for proxy in self._proxies.values():
            if not enabled and self._enabled[proxy]:
                await self._call(self.client.update_proxy, proxy, enabled=False)
                self._enabled[proxy] = False
            await self._apply_toxics(proxy, wanted)
            if enabled and not self._enabled[proxy]:
                await self._call(self.client.update_proxy, proxy, enabled=True)
                self._enabled[proxy] = True

    async def _apply_toxics(self, proxy: str, wanted: dict[str, dict[str, Any]]) -> None:
        active = self._active[proxy]
        for name, toxic in list(active.items()):
            body = wanted.get(name)
            if body is None or (body["type"], body["stream"]) != (toxic.type, toxic.stream):
                await self._call(self.client.remove_toxic, proxy, name)
                del active[name]
        for name, body in wanted.items():
            current = active.get(name)
            if current is None:
                active[name] = await self._call(self.client.add_toxic, proxy, body)
                continue
            # Updates merge attributes server-side, so unset ones are sent as 0 explicitly.
            attributes = {key: 0 for key in current.attributes} | body["attributes"]
            if (attributes, float(body["toxicity"])) != (current.attributes, current.toxicity):
                # A live update, as Toxiproxy does it: connections keep their place.
                active[name] = await self._call(
                    self.client.update_toxic,
                    proxy,
                    name,
                    attributes=attributes,
                    toxicity=body["toxicity"],
                )

    async def clear(self) -> None:
        await self.apply([])

    async def close(self) -> None:
        """Remove our proxies (a real server outlives us) and stop the embedded server."""
        if self._client is not None and self._embedded is None:
            for proxy in list(self._proxies.values()):
                try:
                    await self._call(self.client.delete_proxy, proxy)
                except LabError as exc:
                    log.warning("could not delete proxy %s: %s", proxy, exc)
        self._proxies.clear()
        self._active.clear()
        if self._embedded is not None:
            embedded, self._embedded = self._embedded, None
            try:
                await asyncio.wait_for(asyncio.to_thread(embedded.stop, 5.0), 10.0)
            except TimeoutError:
                log.warning("the embedded Toxiproxy did not stop within 10s; left as a daemon")
