"""Named proxies (listen -> upstream) and their toxics, after Toxiproxy's `proxy.go`.

A disabled proxy has no listener (clients get connection refused) and no connections.
Toxics added, updated or removed on a proxy reach its live connections as in Toxiproxy.
All methods run on the event loop that owns the proxy's sockets.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any, cast

from gaplab.netfault.link import Connection
from gaplab.netfault.toxics import ERR_TOXIC_NOT_FOUND, ApiError, ToxicSpec

UPSTREAM_CONNECT_TIMEOUT = 10.0


def split_address(address: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or `:port` (loopback) -> (host, port); ValueError if not."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address {address}: missing port in address")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def join_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Acceptor(asyncio.Protocol):
    """Accepts one client: holds its bytes until the upstream connection is open."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's transports do not subclass asyncio's.
        transport = cast(asyncio.Transport, transport)
        self.proxy.accept(transport, self)


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, rng: random.Random) -> None:
        self.name = name
        self.listen = listen or "127.0.0.1:0"
        self.upstream = upstream
        self.enabled = False
        self.toxics: list[ToxicSpec] = []
        self.connections: set[Connection] = set()
        # Connections each toxic was drawn active on (the lab's evidence that a network
        # fault hit something; not part of Toxiproxy's API). Counts only grow.
        self.toxic_hits: Counter[str] = Counter()
        self.accepted = 0
        self._rng = rng
        self._server: asyncio.AbstractServer | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [toxic.to_json() for toxic in self.ordered_toxics()],
        }

    def ordered_toxics(self) -> list[ToxicSpec]:
        # Toxiproxy lists the upstream chain first, then the downstream chain.
        return [t for d in ("upstream", "downstream") for t in self.toxics if t.direction == d]

    def find_toxic(self, name: str) -> ToxicSpec:
        for toxic in self.toxics:
            if toxic.name == name:
                return toxic
        raise ERR_TOXIC_NOT_FOUND

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        if self.enabled:
            return
        try:
            host, port = split_address(self.listen)
            loop = asyncio.get_running_loop()
            self._server = await loop.create_server(
                lambda: _Acceptor(self), host, port, reuse_address=True, backlog=4096
            )
        except (OSError, ValueError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ApiError(f"listen tcp {self.listen}: {detail}", 500) from None
        sockname = self._server.sockets[0].getsockname()
        self.listen = join_address(sockname[0], sockname[1])
        self.enabled = True

    def stop(self) -> None:
        if not self.enabled:
            return
        self.enabled = False
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in list(self.connections):
            connection.abort()

    def differs(self, listen: str, upstream: str) -> bool:
        return listen != self.listen or upstream != self.upstream

    async def update(self, listen: str, upstream: str, enabled: bool) -> None:
        if self.differs(listen, upstream):
            self.stop()
            self.listen, self.upstream = listen, upstream
        if enabled and not self.enabled:
            await self.start()
        elif not enabled:
            self.stop()

    # -- connections --------------------------------------------------------------------
    def accept(self, client: asyncio.Transport, acceptor: _Acceptor) -> None:
        client.pause_reading()
        connection = Connection(self._rng, self.connections.discard)
        connection.client = client
        endpoint = connection.client_endpoint()
        client.set_protocol(endpoint)
        endpoint.connection_made(client)
        for direction in ("upstream", "downstream"):
            link = connection.link(direction)
            link.build([t for t in self.toxics if t.direction == direction])
            self.toxic_hits.update(stage.spec.name for stage in link.stages if stage.active)
        self.accepted += 1
        self.connections.add(connection)
        asyncio.get_running_loop().create_task(self._dial(connection))

    async def _dial(self, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        try:
            host, port = split_address(self.upstream)
            transport, _ = await asyncio.wait_for(
                loop.create_connection(connection.server_endpoint, host, port),
                UPSTREAM_CONNECT_TIMEOUT,
            )
        except (OSError, ValueError, TimeoutError):
            # Like Toxiproxy: the client is accepted, then closed when the upstream is not there.
            connection.server_unreachable()
            return
        connection.server = transport
        if connection.closed or connection.client is None or connection.client.is_closing():
            transport.close()
            return
        connection.upstream_link.start_stages()
        connection.downstream_link.start_stages()
        connection.client.resume_reading()

    # -- toxics -------------------------------------------------------------------------
    def add_toxic(self, spec: ToxicSpec) -> None:
        self.toxics.append(spec)
        for connection in self.connections:
            link = connection.link(spec.direction)
            link.add_toxic(spec)
            if link.stages and link.stages[-1].spec is spec and link.stages[-1].active:
                self.toxic_hits[spec.name] += 1

    async def update_toxic(self, spec: ToxicSpec) -> None:
        self.toxics = [spec if t.name == spec.name else t for t in self.toxics]
        await asyncio.gather(
            *(c.link(spec.direction).update_toxic(spec) for c in list(self.connections))
        )

    async def remove_toxic(self, name: str) -> None:
        spec = self.find_toxic(name)
        self.toxics.remove(spec)
        await asyncio.gather(
            *(c.link(spec.direction).remove_toxic(name) for c in list(self.connections))
        )

    async def reset_toxics(self) -> None:
        for toxic in list(self.toxics):
            await self.remove_toxic(toxic.name)
