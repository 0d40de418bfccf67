"""The embedded Toxiproxy-compatible server: its API and every proxy on one event loop.

`ToxiproxyServer` runs on the caller's loop; `EmbeddedToxiproxy` gives it a thread and a
loop of its own, which the engine uses. Measured with `bench/proxy.py --busy --mode
loop|thread`: with the proxy on a busy client loop, proxied throughput fell to 0.61 of direct
(own thread: 0.79), because chunks queue behind the loop's other callbacks while a thread
gets the GIL whenever the loop waits on I/O. Idle, both modes add the same ~0.1 ms at p50.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterable

from aiohttp import web

from gaplab import runtime
from gaplab.errors import LabError
from gaplab.loopback_guard import allowed_hosts as guard_hosts
from gaplab.netfault.api import make_handler
from gaplab.netfault.registry import Registry


class ToxiproxyServer:
    """API on `host:port` (0 picks a free port) plus the proxies it creates. The API answers
    requests whose Host is loopback, `host` itself, or one of `allowed_hosts`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8474,
        seed: int = 1,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.host = host
        self.port = port
        self.allowed_hosts = guard_hosts(host, allowed_hosts)
        self.registry = Registry(seed)
        self._web: web.Server | None = None
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._web = web.Server(make_handler(self.registry, self.allowed_hosts), access_log=None)
        try:
            self._server = await loop.create_server(self._web, self.host, self.port)
        except OSError as exc:
            raise LabError(
                f"cannot start the embedded Toxiproxy API on {self.host}:{self.port}: "
                f"{exc.strerror or exc}"
            ) from None
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.registry.close()
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._web is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._web.shutdown(1.0), 2.0)
            self._web = None


class EmbeddedToxiproxy:
    """A `ToxiproxyServer` on a daemon thread with its own event loop: uvloop's when
    enabled (`gaplab.runtime`; it moves proxied bytes for about half the CPU), else the
    standard one. `loop_factory` picks another (the tests run the data path on both)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 1,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] = runtime.new_event_loop,
    ) -> None:
        self.server = ToxiproxyServer(host, port, seed)
        self._loop_factory = loop_factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self, timeout: float = 10.0) -> None:
        self._thread = threading.Thread(target=self._main, name="gaplab-netfault", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise LabError(f"the embedded Toxiproxy did not start within {timeout:g}s")
        if self._error is not None:
            error, self._error = self._error, None
            if isinstance(error, LabError):
                raise error
            raise LabError(f"the embedded Toxiproxy failed to start: {error}")

    def stop(self, timeout: float = 5.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        stopping = asyncio.run_coroutine_threadsafe(self.server.stop(), loop)
        with contextlib.suppress(Exception):
            stopping.result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    def _main(self) -> None:
        loop = self._loop_factory()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()
