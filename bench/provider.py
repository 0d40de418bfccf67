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
5. `--only tokens`: counting the tokens of a 100,000-token input (goal: 20 ms or less), the
   lab's own pasted documents (the first count in a fresh process, caches cold, and the
   median over fresh documents once warm), and a text whose every word is new (the
   per-word shortcut's worst case), next to splitting the whole text piece by piece.
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
import urllib.request
from pathlib import Path
from typing import Any

from common import closed_loop_rate, serve_hello  # bench/common.py
from gaplab import runtime
from gaplab.provider import pacer_pool
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.pacer import Schedule, StreamPacer
from gaplab.provider.profiles import LatencyProfile, RateLimits, load_profile
from gaplab.provider.recorder import JournalView
from gaplab.provider.server import MockProvider

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


def _serve(kind: str, port_queue: Any, tokens_per_second: float, workers: int) -> None:
    async def main() -> None:
        if kind == "bare":
            port = await serve_hello("/v1/chat/completions")
        else:
            provider = MockProvider(
                _bench_profile(tokens_per_second), journal_capacity=10_000, stream_workers=workers
            )
            await provider.start()
            if kind == "streams":
                provider.set_faults([ProviderFault(behaviour="huge_output", huge_tokens=800)])
            port = provider.port
        runtime.freeze_startup_objects()  # as `lab provider serve` does
        port_queue.put(port)
        await asyncio.Event().wait()

    runtime.run(main())


def _start(kind: str, tokens_per_second: float = 1e9, workers: int = 0) -> tuple[Any, int]:
    queue: Any = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=_serve, args=(kind, queue, tokens_per_second, workers), daemon=True
    )
    process.start()
    return process, queue.get(timeout=30)


async def _requests_per_second(port: int, seconds: float, users: int = 50) -> float:
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    return await closed_loop_rate(url, seconds, users, json=BODY)


def _drain_streams(port: int, streams: int, ramp: float, out: Any) -> None:
    """The client of the streams benchmark, in a process of its own: opens `streams`
    streaming requests over `ramp` seconds on raw sockets, reads every byte of every stream
    as it arrives, and checks that each ended with `data: [DONE]` and the last HTTP chunk.

    Raw sockets because on a 2-core machine the client shares the cores with the provider:
    an aiohttp client parsing every event took a whole core and still fell 200 ms behind,
    so it measured itself. This one takes about half a core."""
    import selectors

    body = json.dumps({**BODY, "stream": True, "max_tokens": 500}).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
    )
    selector = selectors.DefaultSelector()
    tails: dict[socket.socket, bytes] = {}
    start = time.perf_counter()
    opened = finished = complete = received = peak = 0
    all_open_at: float | None = None
    last_first_byte = 0.0  # when the last stream to start got its first bytes
    while finished < streams:
        due = start + ramp * opened / streams
        while opened < streams and time.perf_counter() >= due:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setblocking(False)
            sock.sendall(request)
            selector.register(sock, selectors.EVENT_READ)
            tails[sock] = b""
            opened += 1
            due = start + ramp * opened / streams
        if opened - finished > peak:
            peak = opened - finished
            if peak == streams:
                all_open_at = time.perf_counter() - start
        timeout: float | None = None
        if opened < streams:
            timeout = max(0.0, due - time.perf_counter())
        for key, _ in selector.select(timeout):
            sock = key.fileobj  # type: ignore[assignment]
            data = sock.recv(1 << 16)
            received += len(data)
            if not tails[sock]:
                last_first_byte = max(last_first_byte, time.perf_counter() - start)
            tail = (tails[sock] + data)[-64:]
            tails[sock] = tail
            if not data or tail.endswith(b"0\r\n\r\n"):
                complete += tail.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")
                selector.unregister(sock)
                sock.close()
                finished += 1
    out.put(
        {
            "complete": complete,
            "peak": peak,
            "all_open_at": all_open_at,
            "answered_by": last_first_byte,
            "mb": received / 1e6,
            "seconds": time.perf_counter() - start,
            "cpu": time.process_time(),
        }
    )


def _health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_lab/health", timeout=30) as answer:
        result: dict[str, Any] = json.load(answer)
    return result


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
        "--stream-workers",
        default=f"0,{pacer_pool.auto_workers()}",
        help="comma-separated stream-worker counts to compare (default: 0 and auto)",
    )
    parser.add_argument(
        "--ramp", type=float, default=2.0, help="seconds over which the streams open"
    )
    parser.add_argument(
        "--only",
        choices=("requests", "streams", "pacer", "journal", "tokens"),
        action="append",
        help="run only these parts (repeatable); all three by default",
    )
    args = parser.parse_args()
    parts = set(args.only or ("requests", "streams", "pacer", "journal", "tokens"))
    if "requests" in parts:
        _bench_requests(args.seconds)
    if "streams" in parts:
        workers = [int(part) for part in args.stream_workers.split(",")]
        _bench_streams(args.streams, list(dict.fromkeys(workers)), args.ramp)
    if "pacer" in parts:
        _bench_pacer(args.streams)
    if "journal" in parts:
        _bench_journal(args.calls)
    if "tokens" in parts:
        _bench_tokens()


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


def _bench_streams(streams: int, workers: list[int], ramp: float) -> None:
    for count in workers:
        streamer, port = _start("streams", tokens_per_second=50.0, workers=count)
        try:
            queue: Any = multiprocessing.Queue()
            client = multiprocessing.Process(
                target=_drain_streams, args=(port, streams, ramp, queue)
            )
            client.start()
            result = queue.get(timeout=600)
            client.join()
            server = _health(port)
        finally:
            streamer.terminate()
        lateness = server["stream_lateness_ms"]
        where = f"{count} stream workers" if count else "in the provider's process"
        print(
            f"{streams} streams at 50 tok/s, paced {where}: {server['stream_chunks']:,} chunks; "
            f"lateness as sent p50 {lateness['p50']:.1f} ms, p99 {lateness['p99']:.1f} ms "
            f"(goal p99 < 20 ms); client: {result['complete']}/{streams} streams complete, "
            f"{result['peak']} open at once{_all_open(result['all_open_at'])}, every one "
            f"answered by {result['answered_by']:.1f} s, "
            f"{result['mb']:.0f} MB in {result['seconds']:.1f} s, {result['cpu']:.1f} s of CPU"
        )


def _all_open(at: float | None) -> str:
    return f" (all sent by {at:.1f} s)" if at is not None else ""


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


def _count_in_child(out: Any) -> None:
    """Token counts of 100,000-token inputs, in a fresh process (cold caches first)."""
    import random

    from gaplab.load.inputs.documents import Tape
    from gaplab.load.inputs.prose import corpus
    from gaplab.provider import tokens

    tape = Tape(corpus(11))
    rng = random.Random(11)
    documents = [tape.document(rng, 100_000) for _ in range(11)]

    def timed(text: str) -> tuple[int, float]:
        start = time.perf_counter()
        count = tokens.count_tokens(text)
        return count, (time.perf_counter() - start) * 1000

    cold = timed(documents[0])
    warm = [timed(d)[1] for d in documents[1:]]
    words = rng.choices(list("abcdefghijklmnopqrstuvwxyz"), k=600_000)
    fresh = " ".join("".join(words[i : i + 6]) for i in range(0, len(words), 6))
    new_words = timed(fresh)
    start = time.perf_counter()
    whole = round(tokens._segment_centi(documents[1]) / 100)
    split_ms = (time.perf_counter() - start) * 1000
    out.put(
        {
            "cold": cold,
            "warm_ms": statistics.median(warm),
            "new_words": new_words,
            "whole_ms": split_ms,
            "whole": whole,
        }
    )


def _bench_tokens() -> None:
    out: Any = multiprocessing.Queue()
    child = multiprocessing.Process(target=_count_in_child, args=(out,))
    child.start()
    got = out.get(timeout=120)
    child.join()
    (cold_count, cold_ms), (new_count, new_ms) = got["cold"], got["new_words"]
    print("token counting of a 100,000-token input (goal: <= 20 ms)")
    print(f"  lab document, first count in a fresh process: {cold_ms:6.1f} ms ({cold_count:,})")
    print(f"  lab documents, warm (median of 10):          {got['warm_ms']:6.1f} ms")
    print(f"  every word new ({new_count:,} tokens):           {new_ms:6.1f} ms")
    print(f"  splitting a lab document whole (the old way): {got['whole_ms']:6.1f} ms")


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    sys.exit(main())
