"""Pieces the benchmarks share: a bare aiohttp endpoint to compare against, and a
closed-loop client that measures requests per second."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from aiohttp import web


async def serve_hello(path: str) -> int:
    """A bare aiohttp POST endpoint on a free loopback port that reads the body and answers a
    small JSON object: the baseline the mock provider is compared with. Returns the port."""

    async def hello(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"answer": "hello"})

    app = web.Application()
    app.router.add_post(path, hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return int(runner.addresses[0][1])


async def closed_loop_rate(
    url: str, seconds: float, users: int, json: Any = None, status: int = 200
) -> float:
    """Requests/s of `users` keep-alive clients that each send, read the whole answer and
    send again for `seconds` (GET, or POST when `json` is given)."""
    done = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def user() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                method = "GET" if json is None else "POST"
                async with session.request(method, url, json=json) as response:
                    await response.read()
                    assert response.status == status
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(user() for _ in range(users)))
        return done / (time.perf_counter() - start)
