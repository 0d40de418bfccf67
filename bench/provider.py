"""Benchmarks of the mock provider (not part of the test run).

    python bench/provider.py [--seconds 5] [--streams 1000] [--calls 1000000]

Servers run in child processes on the loop `lab provider serve` uses (uvloop unless
GAPLAB_EVENT_LOOP=asyncio; see gaplab/runtime.py), so that setting can be compared.

1. Non-streaming requests/s of the mock provider (latency profile zeroed, no rate limits)
   against a bare aiohttp "hello" endpoint on the same stack, both served from a child
   process and driven by the same aiohttp client in this one: the ratio is the number that
   matters (goal >= 0.7); absolute numbers depend on the machine.
2. `--streams` concurrent streams at 50 tokens/s, opened over 2 s: the lateness of chunks
   against their schedule, p50/p99 (goal: p99 under 20 ms), as the provider wrote them
   (its pacer's histogram from /_lab/health, taken at the moment of each socket write) and
   as this single client process received them (against arrival of the stream's role
   chunk + tokens so far / rate; includes the client's own lag, since one Python client
   cannot keep up with 50,000 chunks a second).
3. `--only pacer`: the Python work per chunk of the stream pacer alone (CPU microseconds),
   with transports that count writes instead of touching a socket, next to the cost of one
   real 200-byte `socket.send` on loopback measured in the same process: the two add up to
   what one streamed chunk costs the provider.
4. Peak resident memory of a child process after journaling `--calls` calls (memory window
   of 10,000 records, the rest spilled to a JSONL file).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

from common import closed_loop_rate, serve_hello  # bench/common.py
from gaplab import runtime
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.pacer import Schedule, StreamPacer
from gaplab.provider.profiles import LatencyProfile, RateLimits, load_profile
from gaplab.provider.recorder import JournalView
from gaplab.provider.server import MockProvider
from gaplab.provider.tokens import piece_tokens, pieces

BODY = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are the support assistant of a shop."},
        {"role": "user", "content": "How do I change the billing address on invoice INV-20931?"},
    ],
}


def _bench_profile(tokens_per_second: float) -> Any:
    profile = load_profile("openai")
    latency = LatencyProfile(ttft_median=0.0, ttft_sigma=0.0, tokens_per_second=tokens_per_second)
    models = tuple(m.model_copy(update={"latency": None}) for m in profile.models)
    return profile.model_copy(
        update={"latency": latency, "models": models, "rate_limits": RateLimits()}
    )


def _serve(kind: str, port_queue: Any, tokens_per_second: float) -> None:
    async def main() -> None:
        if kind == "bare":
            port = await serve_hello("/v1/chat/completions")
        else:
            provider = MockProvider(_bench_profile(tokens_per_second), journal_capacity=10_000)
            await provider.start()
            if kind == "streams":
                provider.set_faults([ProviderFault(behaviour="huge_output", huge_tokens=800)])
            port = provider.port
        runtime.freeze_startup_objects()  # as `lab provider serve` does
        port_queue.put(port)
        await asyncio.Event().wait()

    runtime.run(main())


def _start(kind: str, tokens_per_second: float = 1e9) -> tuple[Any, int]:
    queue: Any = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=_serve, args=(kind, queue, tokens_per_second), daemon=True
    )
    process.start()
    return process, queue.get(timeout=30)


async def _requests_per_second(port: int, seconds: float, users: int = 50) -> float:
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    return await closed_loop_rate(url, seconds, users, json=BODY)


async def _stream_lateness(
    port: int, streams: int, rate: float, ramp: float = 2.0
) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    lateness: list[float] = []
    body = {**BODY, "stream": True, "max_tokens": 500}  # 10 s per stream at 50 tokens/s
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(index: int) -> None:
            # Streams open over a ramp, as a load test would, then all run at once.
            await asyncio.sleep(ramp * index / streams)
            async with session.post(url, json=body) as response:
                first: float | None = None
                tokens = 0.0
                buffer = b""
                async for data in response.content.iter_any():
                    now = time.perf_counter()
                    *events, buffer = (buffer + data).split(b"\n\n")
                    for event in events:
                        if not event.startswith(b"data: {"):
                            continue
                        if first is None:  # the role chunk: the server's schedule starts
                            first = now
                            continue
                        # Cheaper than parsing the whole chunk: this client must keep up.
                        at = event.find(b'"delta":{"content":')
                        if at < 0:
                            continue
                        end = event.find(b'},"logprobs"', at)
                        text = json.loads(event[at + 19 : end])
                        if text:
                            tokens += sum(piece_tokens(p) for p in pieces(text))
                            lateness.append(max(0.0, now - (first + tokens / rate)))

        await asyncio.gather(*(one(index) for index in range(streams)))
        async with session.get(f"http://127.0.0.1:{port}/_lab/health") as response:
            server = (await response.json())["stream_lateness_ms"]
    lateness.sort()
    return {
        "chunks": len(lateness),
        "p50_ms": 1000 * statistics.median(lateness),
        "p99_ms": 1000 * lateness[int(0.99 * (len(lateness) - 1))],
        "max_ms": 1000 * lateness[-1],
        "server_p50_ms": server["p50"],
        "server_p99_ms": server["p99"],
    }


def _rss_mb() -> float:
    """Current resident memory of this process (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _journal_memory(calls: int, out: Any) -> None:
    baseline = _rss_mb()
    quarter = _rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        journal = JournalView(capacity=10_000, spill_path=Path(tmp) / "calls.jsonl")
        start = time.perf_counter()
        for index in range(calls):
            journal.append(
                ProviderCall(
                    call_id=f"req_{index:024x}",
                    dialect="openai",
                    path="/v1/chat/completions",
                    t_arrival=index * 0.001,
                    t_first_byte=index * 0.001 + 0.2,
                    t_end=index * 0.001 + 0.5,
                    status=200,
                    outcome="completed",
                    model_requested="gpt-4o-mini",
                    model_served="gpt-4o-mini-2024-07-18",
                    max_tokens=300,
                    system_prompt=BODY["messages"][0]["content"],
                    # Unique text per call, as real traffic has (shared dicts would flatter us).
                    messages=(
                        BODY["messages"][0],
                        {"role": "user", "content": f"Question {index}: where is order {index}?"},
                    ),
                    tokens_in=31,
                    tokens_out=48,
                    cost_usd=3.3e-5,
                    retry_count=0,
                    read_timeout=600.0,
                    user_agent="OpenAI/Python 3.57.0",
                    correlation={"user": f"u{index % 50}"},
                )
            )
            if index == calls // 4:
                quarter = _rss_mb()
        journal.close()
        elapsed = time.perf_counter() - start
        size = (Path(tmp) / "calls.jsonl").stat().st_size
    out.put(
        {
            "calls": calls,
            "seconds": elapsed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "baseline_mb": baseline,
            "quarter_mb": quarter,
            "end_mb": _rss_mb(),
            "spill_mb": size / 1e6,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument(
        "--only",
        choices=("requests", "streams", "pacer", "journal"),
        action="append",
        help="run only these parts (repeatable); all three by default",
    )
    args = parser.parse_args()
    parts = set(args.only or ("requests", "streams", "pacer", "journal"))
    if "requests" in parts:
        _bench_requests(args.seconds)
    if "streams" in parts:
        _bench_streams(args.streams)
    if "pacer" in parts:
        _bench_pacer(args.streams)
    if "journal" in parts:
        _bench_journal(args.calls)


def _bench_requests(seconds: float) -> None:

    bare, bare_port = _start("bare")
    mock, mock_port = _start("mock")
    try:
        asyncio.run(_requests_per_second(bare_port, 1.0))  # warm up both
        asyncio.run(_requests_per_second(mock_port, 1.0))
        # Alternate one-second rounds so a busy neighbour slows both sides alike.
        bare_runs, mock_runs = [], []
        for _ in range(max(1, round(seconds))):
            bare_runs.append(asyncio.run(_requests_per_second(bare_port, 1.0)))
            mock_runs.append(asyncio.run(_requests_per_second(mock_port, 1.0)))
        bare_rps, mock_rps = statistics.median(bare_runs), statistics.median(mock_runs)
    finally:
        bare.terminate()
        mock.terminate()
    print(
        f"non-streaming: mock {mock_rps:,.0f} req/s, bare aiohttp {bare_rps:,.0f} req/s, "
        f"ratio {mock_rps / bare_rps:.2f} (goal >= 0.7)"
    )


def _bench_streams(streams: int) -> None:
    streamer, stream_port = _start("streams", tokens_per_second=50.0)
    try:
        result = runtime.run(_stream_lateness(stream_port, streams, 50.0))
    finally:
        streamer.terminate()
    print(
        f"{streams} streams at 50 tok/s: {result['chunks']:,} chunks; lateness as sent "
        f"by the provider p50 {result['server_p50_ms']:.1f} ms, p99 "
        f"{result['server_p99_ms']:.1f} ms (goal p99 < 20 ms); as received by this one "
        f"client p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"max {result['max_ms']:.1f} ms"
    )


class _CountingTransport:
    def __init__(self) -> None:
        self.writes = 0

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def write(self, data: bytes) -> None:
        self.writes += 1


async def _pacer_work(streams: int, tokens: int = 100, rate: float = 50.0) -> dict[str, float]:
    pacer = StreamPacer()
    loop = asyncio.get_running_loop()
    chunk = (
        b'data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,'
        b'"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" word"},'
        b'"logprobs":null,"finish_reason":null}]}\n\n'
    )

    async def one(index: int) -> None:
        await asyncio.sleep(index * 2.0 / streams)  # the same 2 s ramp as the real streams
        start = loop.time()
        schedule = Schedule()
        for k in range(tokens):
            schedule.add(start + (k + 1) / rate, chunk)
        await pacer.send(_CountingTransport(), schedule.seal())  # type: ignore[arg-type]

    cpu = time.process_time()
    await asyncio.gather(*(one(index) for index in range(streams)))
    cpu = time.process_time() - cpu
    return {
        "chunks": pacer.chunks_sent,
        "writes": pacer.writes,
        "us_per_chunk": 1e6 * cpu / pacer.chunks_sent,
        "p99_ms": 1000 * pacer.lateness_percentile(0.99),
    }


def _send_cost(count: int = 50_000) -> float:
    """Microseconds of one 200-byte `socket.send` on loopback, a reader draining the other end."""
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    drained = threading.Thread(
        target=lambda: [None for _ in iter(lambda: client.recv(1 << 16), b"")]
    )
    drained.start()
    data = b"x" * 200
    start = time.perf_counter()
    for _ in range(count):
        peer.sendall(data)
    elapsed = time.perf_counter() - start
    peer.close()
    drained.join()
    client.close()
    server.close()
    return 1e6 * elapsed / count


def _bench_pacer(streams: int) -> None:
    result = asyncio.run(_pacer_work(streams))
    send = _send_cost()
    print(
        f"pacer alone, {streams} streams x 100 chunks at 50 tok/s: {result['chunks']:,} chunks "
        f"in {result['writes']:,} writes, {result['us_per_chunk']:.1f} us of CPU per chunk "
        f"(the 1,000 tasks and their schedules included), "
        f"p99 lateness {result['p99_ms']:.1f} ms; one real socket send costs {send:.1f} us"
    )


def _bench_journal(calls: int) -> None:
    queue: Any = multiprocessing.Queue()
    child = multiprocessing.Process(target=_journal_memory, args=(calls, queue))
    child.start()
    memory = queue.get(timeout=3600)
    child.join()
    print(
        f"journal: {memory['calls']:,} calls in {memory['seconds']:.1f} s, peak RSS "
        f"{memory['peak_rss_mb']:.0f} MB; resident {memory['baseline_mb']:.0f} MB before, "
        f"{memory['quarter_mb']:.0f} MB after a quarter, {memory['end_mb']:.0f} MB at the end "
        f"(flat = bounded); spill file {memory['spill_mb']:.0f} MB"
    )


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    sys.exit(main())
