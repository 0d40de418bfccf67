"""Benchmark: keep-alive HTTP through the embedded proxy (no toxics) vs direct, in one run.

    python bench/proxy.py [--mode thread|loop] [--busy] [--rounds 7] [--connections 1000]

The upstream is an aiohttp server in a child process; the client (aiohttp, keep-alive) and
the proxy live in this process, as in a lab run. Prints:
  - added p50 / p99 latency of one sequential keep-alive connection (goal: p50 < 0.3 ms),
  - throughput ratio proxied / direct with 32 concurrent connections (goal: >= 0.8), the
    median of interleaved one-second rounds, and the proxy's CPU per proxied request,
  - 1,000 concurrent connections held open through the proxy at once, with the error count.
The throughput client runs in a process of its own by default (`--client here` puts it in
this process, sharing the interpreter with the proxy thread, which halves what either gets).
`--mode loop` runs the proxy on the client's own event loop instead of its own thread;
`--busy` adds what a lab run does to that loop (CPU bursts of 2 ms every 5 ms). The proxy
runs on the loop a lab run gives it (uvloop when installed; GAPLAB_EVENT_LOOP=asyncio for
the standard one, to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import subprocess
import sys
import time
from typing import Any

import aiohttp

from common import closed_loop_rate  # bench/common.py
from gaplab.netfault import EmbeddedToxiproxy, ToxiproxyClient, ToxiproxyServer

UPSTREAM = r"""
import asyncio, sys
from aiohttp import web
async def hello(request):
    if request.query.get("hold"):
        await asyncio.sleep(float(request.query["hold"]))
    return web.Response(text="x" * 200)
app = web.Application()
app.router.add_get("/", hello)
async def main():
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


async def sequential(session: aiohttp.ClientSession, url: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
        times.append(time.perf_counter() - start)
    return times


def _throughput_child(url: str, seconds: float, workers: int, out: Any) -> None:
    out.put(asyncio.run(closed_loop_rate(url, seconds, workers)))


async def throughput_from(client: str, url: str, seconds: float, workers: int) -> float:
    """Requests/s from a client in this process, or in a process of its own (as the target
    is in a lab run: the proxy's clients never share its interpreter)."""
    if client == "here":
        return await closed_loop_rate(url, seconds, workers)
    out: Any = multiprocessing.Queue()
    child = multiprocessing.Process(target=_throughput_child, args=(url, seconds, workers, out))
    child.start()
    rate = float(await asyncio.to_thread(out.get, True, seconds + 30))
    await asyncio.to_thread(child.join, 10)
    return rate


async def hold_many(url: str, count: int, server: ToxiproxyServer | None) -> tuple[int, int, int]:
    """`count` requests in flight at once (the upstream holds each 2 s): ok, errors, peak."""
    connector = aiohttp.TCPConnector(limit=count)
    peak = 0
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> bool:
            try:
                async with session.get(url + "?hold=2") as response:
                    return response.status == 200 and len(await response.read()) == 200
            except (aiohttp.ClientError, OSError):
                return False

        tasks = [asyncio.create_task(one()) for _ in range(count)]
        while not all(t.done() for t in tasks):
            if server is not None:
                peak = max(peak, sum(len(p.connections) for p in server.registry.proxies.values()))
            await asyncio.sleep(0.05)
        results = [t.result() for t in tasks]
    return sum(results), results.count(False), peak


async def busy_loop(stop: asyncio.Event) -> None:
    while not stop.is_set():
        end = time.perf_counter() + 0.002
        while time.perf_counter() < end:
            pass
        await asyncio.sleep(0.005)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


async def main(args: argparse.Namespace) -> int:
    # Started before any traffic: blocking here costs nothing that is measured.
    child = subprocess.Popen([sys.executable, "-c", UPSTREAM], stdout=subprocess.PIPE, text=True)  # noqa: ASYNC220
    embedded: EmbeddedToxiproxy | None = None
    in_loop: ToxiproxyServer | None = None
    stop_busy = asyncio.Event()
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        if args.mode == "thread":
            embedded = EmbeddedToxiproxy(port=0)
            embedded.start()
            api_url, server = embedded.url, embedded.server
        else:
            in_loop = ToxiproxyServer(port=0)
            await in_loop.start()
            api_url, server = in_loop.url, in_loop
        client = ToxiproxyClient(api_url)
        proxy = await asyncio.to_thread(client.create_proxy, "bench", f"127.0.0.1:{port}")
        host, proxy_port = proxy.listen_address
        direct, proxied = f"http://127.0.0.1:{port}/", f"http://{host}:{proxy_port}/"
        if args.busy:
            asyncio.get_running_loop().create_task(busy_loop(stop_busy))

        lat: dict[str, list[float]] = {"direct": [], "proxied": []}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
            await sequential(session, direct, 200)  # warm-up
            await sequential(session, proxied, 200)
            for _ in range(10):  # interleaved blocks, so drift hits both sides alike
                lat["direct"] += await sequential(session, direct, 200)
                lat["proxied"] += await sequential(session, proxied, 200)
        # Interleaved one-second rounds, the ratio taken per round (this machine's speed
        # drifts by a third between rounds), the median reported with its range; the proxy's
        # own CPU per proxied request from this process's CPU clock.
        rps: dict[str, list[float]] = {"direct": [], "proxied": []}
        proxy_cpu = 0.0
        for _ in range(args.rounds):
            rps["direct"].append(await throughput_from(args.client, direct, 1.0, 32))
            cpu = time.process_time()
            rps["proxied"].append(await throughput_from(args.client, proxied, 1.0, 32))
            proxy_cpu += time.process_time() - cpu
        ratios = sorted(p / d for p, d in zip(rps["proxied"], rps["direct"], strict=True))
        stop_busy.set()
        ok, errors, peak = await hold_many(proxied, args.connections, server)

        p50 = {k: statistics.median(v) * 1000 for k, v in lat.items()}
        p99 = {k: pct(v, 99) * 1000 for k, v in lat.items()}
        added, ratio = p50["proxied"] - p50["direct"], statistics.median(ratios)
        print(
            f"proxy on: {args.mode}{' (busy loop)' if args.busy else ''}, "
            f"throughput client: {args.client}"
        )
        print(
            f"p50 latency  direct {p50['direct']:.3f} ms  proxied {p50['proxied']:.3f} ms  "
            f"added {added:.3f} ms (goal < 0.3)"
        )
        print(
            f"p99 latency  direct {p99['direct']:.3f} ms  proxied {p99['proxied']:.3f} ms  "
            f"added {p99['proxied'] - p99['direct']:.3f} ms"
        )
        print(
            f"throughput   direct {statistics.median(rps['direct']):.0f} req/s  proxied "
            f"{statistics.median(rps['proxied']):.0f} req/s  ratio {ratio:.2f} (goal >= 0.8; "
            f"{args.rounds} rounds, {ratios[0]:.2f} to {ratios[-1]:.2f})"
        )
        if args.client == "process":
            per_request = 1e6 * proxy_cpu / (sum(rps["proxied"]) or 1)
            print(f"proxy CPU    {per_request:.0f} us per proxied request (request and response)")
        print(
            f"concurrency  {args.connections} requests in flight: {ok} ok, {errors} errors, "
            f"{peak} proxied connections held at once"
        )
        return 0 if errors == 0 else 1
    finally:
        stop_busy.set()
        if embedded is not None:
            embedded.stop()
        if in_loop is not None:
            await in_loop.stop()
        child.terminate()
        child.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["thread", "loop"], default="thread")
    parser.add_argument("--client", choices=["process", "here"], default="process")
    parser.add_argument("--busy", action="store_true")
    parser.add_argument("--rounds", type=int, default=7, help="one-second throughput rounds")
    parser.add_argument("--connections", type=int, default=1000)
    sys.exit(asyncio.run(main(parser.parse_args())))
