"""Is the lab's load generator ever the bottleneck?

One run, three clients against servers in a child process (so client and server each get
a core of the 2-core machine):
  bare   a minimal aiohttp closed loop (send, read, repeat): the baseline
  lab    gaplab's LoadGenerator (templating, classification, one event per request)
against two endpoints on the same server stack (aiohttp.web):
  hello  a bare JSON "hello" handler
  mock   the mock provider's POST /v1/chat/completions (non-streaming, zero latency)
For 10, 100 and 1,000 users it prints requests/s, the lab client's rate as a ratio to the
bare client's, the provider's rate as a ratio to hello (same client), and the CPU share of
the client and server processes: the side near 100 % is the bottleneck.

    python bench/load.py [--seconds 4] [--users 10,100,1000] [--repeat 3]

Each row is the median of --repeat interleaved runs (this machine is noisy).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from common import serve_hello  # bench/common.py
from gaplab.engine.clock import MonotonicClock
from gaplab.engine.events import Event
from gaplab.load.generator import LoadGenerator
from gaplab.provider.profiles import RateLimits, load_profile
from gaplab.provider.server import MockProvider
from gaplab.scenario.models import LoadSpec
from gaplab.scenario.target_models import TargetFile

TICKS = os.sysconf("SC_CLK_TCK")


def _serve(ports: Any, ready: Any) -> None:
    async def main() -> None:
        hello_port = await serve_hello("/chat")
        profile = load_profile("openai").with_latency_scale(1e-6)  # answer at once
        profile = profile.model_copy(update={"rate_limits": RateLimits()})  # and never 429
        provider = MockProvider(profile, seed=1)
        await provider.start()
        ports.put((hello_port, provider.port))
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


WARMUP = 2.0  # seconds to open connections before counting (1,000 connects take a while)


async def _bare(url: str, body: bytes, users: int, seconds: float) -> int:
    done = 0
    start = time.monotonic() + WARMUP
    deadline = start + seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def user() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as r:
                    await r.read()
                if time.monotonic() >= start:
                    done += 1

        await asyncio.gather(*(user() for _ in range(users)))
    return done


async def _lab(target: TargetFile, users: int, seconds: float) -> int:
    events: list[Event] = []
    generator = LoadGenerator(
        target=target,
        names={},
        base_url=target.request.url.rsplit("/", 1)[0],
        load=LoadSpec(users=users, think=0, patience=30),
        seed=1,
        clock=MonotonicClock(),
        publish=events.append,
        current_phase=lambda: "bench",
        sla=10,
    )
    await generator.start(users)
    await asyncio.sleep(WARMUP)
    before = len(events)
    await asyncio.sleep(seconds)
    counted = len(events) - before
    await generator.stop()
    bad = [e for e in events if getattr(e, "outcome", "ok") != "ok"]
    if bad:
        raise SystemExit(f"the lab client saw {len(bad)} non-ok answers: {bad[0]}")
    return counted


def _measure(
    server_pid: int, run: Callable[[], Awaitable[int]], seconds: float
) -> tuple[float, float, float]:
    """Rate over the counted window; CPU shares over the whole call (warm-up included)."""
    server0, client0, wall0 = _cpu_seconds(server_pid), time.process_time(), time.monotonic()
    count = asyncio.run(run())
    wall = time.monotonic() - wall0
    server = (_cpu_seconds(server_pid) - server0) / wall
    client = (time.process_time() - client0) / wall
    return count / seconds, client, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--users", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (median shown)")
    args = parser.parse_args()
    ports: Any = mp.Queue()
    ready = mp.Event()
    server = mp.Process(target=_serve, args=(ports, ready), daemon=True)
    server.start()
    ready.wait(30)
    hello_port, provider_port = ports.get()
    assert server.pid is not None
    hello_url = f"http://127.0.0.1:{hello_port}/chat"
    mock_url = f"http://127.0.0.1:{provider_port}/v1/chat/completions"
    hello_target = TargetFile.model_validate(
        {"name": "hello", "request": {"url": hello_url, "json": {"message": "{input}"}}}
    )
    mock_body = {
        "model": "gpt-4o-mini",
        "max_tokens": 40,
        "messages": [{"role": "user", "content": "{input}"}],
    }
    mock_target = TargetFile.model_validate(
        {
            "name": "mock",
            "request": {"url": mock_url, "json": mock_body},
            "response": {"answer": "$.choices[0].message.content"},
        }
    )
    hello_body = b'{"message": "How do I reset my password?"}'
    plain_mock = (
        b'{"model": "gpt-4o-mini", "max_tokens": 40, "messages": '
        b'[{"role": "user", "content": "How do I reset my password?"}]}'
    )
    print(
        f"{'users':>6} {'client':>6} {'endpoint':>8} {'req/s':>9} {'client cpu':>10} "
        f"{'server cpu':>10}  ratio"
    )
    try:
        for users in (int(u) for u in args.users.split(",")):
            runs = {
                ("bare", "hello"): lambda n=users: _bare(hello_url, hello_body, n, args.seconds),
                ("lab", "hello"): lambda n=users: _lab(hello_target, n, args.seconds),
                ("bare", "mock"): lambda n=users: _bare(mock_url, plain_mock, n, args.seconds),
                ("lab", "mock"): lambda n=users: _lab(mock_target, n, args.seconds),
            }
            samples: dict[tuple[str, str], list[tuple[float, float, float]]] = {
                key: [] for key in runs
            }
            for _ in range(args.repeat):  # interleaved, so drift hits every row alike
                for key, run in runs.items():
                    samples[key].append(_measure(server.pid, run, args.seconds))
            rows = {key: statistics.median(s[0] for s in got) for key, got in samples.items()}
            for (client, endpoint), got in samples.items():
                rate = rows[(client, endpoint)]
                client_cpu = statistics.median(s[1] for s in got)
                server_cpu = statistics.median(s[2] for s in got)
                if client == "lab":
                    ratio = f"lab/bare {rate / rows[('bare', endpoint)]:.2f}"
                elif endpoint == "mock":
                    ratio = f"mock/hello {rate / rows[('bare', 'hello')]:.2f}"
                else:
                    ratio = "baseline"
                print(
                    f"{users:>6} {client:>6} {endpoint:>8} {rate:>9,.0f} {client_cpu:>10.0%} "
                    f"{server_cpu:>10.0%}  {ratio}",
                    flush=True,
                )
    finally:
        server.kill()


if __name__ == "__main__":
    main()
