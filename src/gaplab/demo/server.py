"""Run a demo app with uvicorn on loopback; print the real address once it accepts requests.

Port 0 picks a free port, and the line `gaplab-demo listening on http://HOST:PORT` tells
which. SIGTERM and SIGINT stop it gracefully (in-flight requests get a short grace period,
then are cancelled) and the process exits 0, not by re-raising the signal as uvicorn does.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from collections.abc import Iterator
from typing import TextIO

import uvicorn
from fastapi import FastAPI

LISTENING_PREFIX = "gaplab-demo listening on "
GRACE_SECONDS = 2  # a hung provider call must not hold up shutdown


class _DemoServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, out: TextIO) -> None:
        super().__init__(config)
        self._out = out
        self.port: int | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        address = self.servers[0].sockets[0].getsockname()
        self.port = int(address[1])
        print(f"{LISTENING_PREFIX}http://{address[0]}:{self.port}", file=self._out, flush=True)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def serve(app: FastAPI, host: str = "127.0.0.1", port: int = 0, out: TextIO | None = None) -> int:
    """Serve until a signal arrives; the exit code (0 after a clean stop)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    server = _DemoServer(config, out or sys.stdout)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits with 3 when it cannot bind or start
        return int(exc.code) if isinstance(exc.code, int) else 1
    return 0 if server.started else 1
