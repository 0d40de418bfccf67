"""One proxied connection: two links (upstream = client->server, downstream = back).

A link with no toxics writes what it reads straight to the other socket from the protocol
callback (the fast path that keeps the no-toxic overhead near a memcpy); with toxics, chunks
go through its `Stage` chain. Closing follows Toxiproxy's `link.go`: when a link's stream
ends its destination socket is closed whole, which ends the other link in turn.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from collections.abc import Callable
from typing import cast

from gaplab.netfault.stages import Chunk, Item, Stage
from gaplab.netfault.toxics import ToxicSpec

HIGH_WATER = 1 << 20  # bytes queued in a link's toxics before its source stops reading
LOW_WATER = 1 << 18


class Link:
    """One direction of one connection and its chain of toxic stages."""

    def __init__(self, connection: Connection, direction: str, rng: random.Random) -> None:
        self.connection = connection
        self.direction = direction
        self.rng = rng
        self.loop = asyncio.get_running_loop()
        self.source: asyncio.Transport | None = None
        self.dest: asyncio.Transport | None = None
        self.stages: list[Stage] = []
        self.done = False
        self._source_ended = False
        self._dest_paused = False
        self._backlog_paused = False
        self._reading_paused = False
        # Bytes (None: end of stream) read before the destination socket exists. The client
        # is paused until the upstream answers, but a loop may still deliver what it had
        # already read (uvloop does), and none of it may be lost.
        self._pending: list[bytes | None] = []

    # -- data path ----------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if self.stages:
            self.stages[0].put(Chunk(data, self.loop.time()))
            if not self._backlog_paused and self.backlog() > HIGH_WATER:
                self._backlog_paused = True
                self._update_reading()
        else:
            self._send(data)

    def feed_eof(self) -> None:
        if self._source_ended:
            return
        self._source_ended = True
        if self.stages:
            self.stages[0].put(None)
        else:
            self.deliver(None)

    def attach(self, dest: asyncio.Transport) -> None:
        """The destination socket is open: send it what arrived before."""
        self.dest = dest
        pending, self._pending = self._pending, []
        for data in pending:
            self._send(data)

    def deliver(self, item: Item) -> None:
        self._send(None if item is None else item.data)

    def _send(self, data: bytes | None) -> None:
        """Bytes to the destination (None: close it), held until it exists."""
        if self.done:
            return
        if self.dest is None:
            self._pending.append(data)
        elif data is None:
            self.done = True
            self.dest.close()
        else:
            self.dest.write(data)

    def reset_connection(self, after: float) -> None:
        self.connection.reset_after(after)

    # -- flow control -------------------------------------------------------------------
    def backlog(self) -> int:
        return sum(stage.queued_bytes for stage in self.stages)

    def dequeued(self) -> None:
        if self._backlog_paused and self.backlog() < LOW_WATER:
            self._backlog_paused = False
            self._update_reading()

    def set_dest_paused(self, paused: bool) -> None:
        self._dest_paused = paused
        self._update_reading()

    def _update_reading(self) -> None:
        pause = self._dest_paused or self._backlog_paused
        if pause == self._reading_paused or self.source is None:
            return
        self._reading_paused = pause
        if pause:
            self.source.pause_reading()
        else:
            self.source.resume_reading()

    # -- toxics on a live link ------------------------------------------------------------
    def build(self, specs: list[ToxicSpec]) -> None:
        """Stages for a new connection; toxicity is drawn now, in accept order."""
        for spec in specs:
            self._append(Stage(self, spec)).draw()

    def start_stages(self) -> None:
        for stage in self.stages:
            stage.run()

    def add_toxic(self, spec: ToxicSpec) -> None:
        if self.done:
            return
        stage = self._append(Stage(self, spec))
        stage.draw()
        stage.run()

    async def update_toxic(self, spec: ToxicSpec) -> None:
        for stage in self.stages:
            if stage.spec.name == spec.name:
                await stage.restart(spec)

    async def remove_toxic(self, name: str) -> None:
        index = next((i for i, s in enumerate(self.stages) if s.spec.name == name), None)
        if index is None:
            return
        stage = self.stages[index]
        await stage.interrupt()
        if stage.spec.type == "timeout":
            stage.close_output()  # Toxiproxy's TimeoutToxic.Cleanup closes the link
        for item in stage.take_inbox():
            if item is None:
                stage.close_output()
                break
            stage.emit(item)
        if index > 0:
            self.stages[index - 1].next = stage.next
        self.stages.remove(stage)

    def kill(self) -> None:
        for stage in self.stages:
            stage.kill()

    def _append(self, stage: Stage) -> Stage:
        if self.stages:
            self.stages[-1].next = stage
        self.stages.append(stage)
        return stage


class Endpoint(asyncio.Protocol):
    """One socket of a connection: the source of one link and the destination of the other."""

    def __init__(self, connection: Connection, outgoing: Link, incoming: Link) -> None:
        self.connection = connection
        self.outgoing = outgoing
        self.incoming = incoming

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's transports do not subclass asyncio's.
        transport = cast(asyncio.Transport, transport)
        self.outgoing.source = transport
        self.incoming.attach(transport)

    def data_received(self, data: bytes) -> None:
        self.outgoing.feed(data)

    def eof_received(self) -> bool:
        self.outgoing.feed_eof()
        return True  # keep writing: the other link decides when this socket closes

    def connection_lost(self, exc: Exception | None) -> None:
        self.incoming.done = True
        self.outgoing.feed_eof()
        self.connection.side_lost()

    def pause_writing(self) -> None:
        self.incoming.set_dest_paused(True)

    def resume_writing(self) -> None:
        self.incoming.set_dest_paused(False)


class Connection:
    """A client accepted by a proxy, joined to its own connection to the upstream."""

    def __init__(self, rng: random.Random, on_closed: Callable[[Connection], None]) -> None:
        self.upstream_link = Link(self, "upstream", rng)
        self.downstream_link = Link(self, "downstream", rng)
        self.client: asyncio.Transport | None = None
        self.server: asyncio.Transport | None = None
        self._sides_open = 0
        self._on_closed = on_closed
        self._reset_handle: asyncio.TimerHandle | None = None
        self.closed = False

    def link(self, direction: str) -> Link:
        return self.upstream_link if direction == "upstream" else self.downstream_link

    def client_endpoint(self) -> Endpoint:
        self._sides_open += 1
        return Endpoint(self, self.upstream_link, self.downstream_link)

    def server_endpoint(self) -> Endpoint:
        self._sides_open += 1
        return Endpoint(self, self.downstream_link, self.upstream_link)

    def side_lost(self) -> None:
        self._sides_open -= 1
        if self._sides_open <= 0:
            self._finish()

    def server_unreachable(self) -> None:
        if self.client is not None:
            self.client.close()

    def reset_after(self, delay: float) -> None:
        if self._reset_handle is None and not self.closed:
            loop = asyncio.get_running_loop()
            self._reset_handle = loop.call_later(max(delay, 0.0), self.reset)

    def reset(self) -> None:
        """Close both sockets with SO_LINGER 0: each peer gets a TCP RST."""
        for transport in (self.client, self.server):
            if transport is None or transport.is_closing():
                continue
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        self._finish()

    def abort(self) -> None:
        """The proxy was disabled or deleted: drop both sockets now."""
        for transport in (self.client, self.server):
            if transport is not None:
                transport.abort()
        self._finish()

    def _finish(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._reset_handle is not None:
            self._reset_handle.cancel()
        self.upstream_link.kill()
        self.downstream_link.kill()
        self._on_closed(self)
