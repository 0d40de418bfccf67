"""Is the lab's load generator ever the bottleneck?

Closed model (default). Clients against servers in a child process (so client and server
each get a core of the 2-core machine):
  bare   a minimal aiohttp closed loop (send, read, repeat): the baseline; it sends the
         same bodies as the lab (made before the clock starts), so the server's work is
         the same for both
  lab    gaplab's LoadGenerator (templating, classification with the unsafe detector, one
         event per request)
against two endpoints on the same server stack (aiohttp.web):
  hello  a bare JSON "hello" handler
  mock   the mock provider's POST /v1/chat/completions (non-streaming, zero latency)
For 10, 100 and 1,000 users it prints requests/s, the lab client's rate as a ratio to the
bare client's, the provider's rate as a ratio to hello (same client), the CPU share of the
client and server processes (the side near 100 % is the bottleneck), and the client's CPU
microseconds per request, whose lab/bare ratio is what the rates' ratio tends to when the
client is the bottleneck, and which stays steady when other work shares the machine.

Open model (--open): the lab's arrivals at each planned rate against the hello endpoint:
the rate achieved (arrivals started per second), answers per second, the schedule slip
(p50/p99/max: how late arrivals started against their plan) and the lab's CPU share. The
rate the lab can issue is where achieved falls short of planned or slip climbs.

Documents (--documents PAGES): 20 closed users at the lab's default 200 ms think time
against the hello endpoint, once sending questions and once pasting a PAGES-page document
(500 tokens a page) with every request: the rate, the lab process's CPU share and its CPU
microseconds per request for each, and what the documents add to the CPU share (goal for
50 pages: under 20 % of a core).

Streams (--stream): N users each reading one streamed answer after another from a small
SSE server in a child process (bench/stream_server.py: `--tokens` events at `--token-rate`
per second, each carrying the moment it was written), through the lab's own stream reader
(gaplab.load.stream). It prints the client's lateness (when the lab read an event minus when
the server wrote it: p50, p99, max), the events read per second, the streams that ended
properly, the server's own lateness (written minus due) and the lab's CPU share. Goal:
p99 ≤ 50 ms at 500 streams × 50 tokens/s.

    python bench/load.py [--seconds 4] [--users 10,100,1000] [--repeat 3]
    python bench/load.py --open [--rates 250,500,1000,2000,4000] [--seconds 4]
    python bench/load.py --stream [--streams 500] [--token-rate 50] [--tokens 250] [--seconds 8]
    python bench/load.py --documents 50 [--users 20] [--seconds 4] [--repeat 3]

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
from gaplab.checks.stats import percentile
from gaplab.engine.clock import MonotonicClock
from gaplab.engine.events import Event, UserRequestFinished
from gaplab.load.generator import LoadGenerator
from gaplab.load.inputs import InputMix
from gaplab.provider.profiles import RateLimits, load_profile
from gaplab.provider.server import MockProvider
from gaplab.runtime import freeze_startup_objects
from gaplab.scenario.models import LoadSpec
from gaplab.scenario.target_models import TargetFile
from gaplab.target.template import RequestTemplate
from gaplab.target.unsafe import UnsafeDetector
from stream_server import serve_streams  # bench/stream_server.py

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
SERVER_PID = 0  # the server child, for its CPU time
Counted = tuple[int, float, float]  # requests, client and server CPU seconds, in the window


def _cpu_now() -> tuple[float, float]:
    return time.process_time(), _cpu_seconds(SERVER_PID)


def _bodies(target: TargetFile, count: int = 4_096) -> list[bytes]:
    """The request bodies the lab would send (same seed, inputs and template), made before
    the clock starts: the bare client sends these, so both give the server the same work
    and the ratio measures the clients alone."""
    mix = InputMix(LoadSpec().inputs, 1)
    streams = [mix.stream(user) for user in range(16)]
    template = RequestTemplate(target.request.url, {}, target.request.json_body)
    bodies = []
    for n in range(count):
        body = template.body({"input": streams[n % 16].next().text})
        assert body is not None
        bodies.append(body.encode())
    return bodies


async def _bare(url: str, bodies: list[bytes], users: int, seconds: float) -> Counted:
    done = 0
    start = time.monotonic() + WARMUP
    deadline = start + seconds
    connector = aiohttp.TCPConnector(limit=0)
    cpu: list[tuple[float, float]] = []

    async def window() -> None:  # CPU over the counted window only
        await asyncio.sleep(WARMUP)
        cpu.append(_cpu_now())
        await asyncio.sleep(seconds)
        cpu.append(_cpu_now())

    async with aiohttp.ClientSession(connector=connector) as session:

        async def user() -> None:
            nonlocal done
            sent = 0
            while time.monotonic() < deadline:
                body = bodies[sent % len(bodies)]
                sent += 1
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as r:
                    await r.read()
                if time.monotonic() >= start:
                    done += 1

        await asyncio.gather(window(), *(user() for _ in range(users)))
    (client0, server0), (client1, server1) = cpu
    return done, client1 - client0, server1 - server0


async def _lab(target: TargetFile, users: int, seconds: float) -> Counted:
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
        detector=UnsafeDetector(),  # what a run classifies with
    )
    await generator.start(users)
    await asyncio.sleep(WARMUP)
    before, (client0, server0) = len(events), _cpu_now()
    await asyncio.sleep(seconds)
    counted, (client1, server1) = len(events) - before, _cpu_now()
    await generator.stop()
    bad = [e for e in events if getattr(e, "outcome", "ok") != "ok"]
    if bad:
        raise SystemExit(f"the lab client saw {len(bad)} non-ok answers: {bad[0]}")
    return counted, client1 - client0, server1 - server0


async def _open(target: TargetFile, rate: float, seconds: float) -> dict[str, float]:
    """Arrivals at `rate` for WARMUP + seconds; figures over the counted window."""
    events: list[Event] = []
    slips: list[tuple[float, float]] = []
    clock = MonotonicClock()
    generator = LoadGenerator(
        target=target,
        names={},
        base_url=target.request.url.rsplit("/", 1)[0],
        load=LoadSpec(arrival=rate, users=100, max_in_flight=10_000, patience=30),
        seed=1,
        clock=clock,
        publish=events.append,
        current_phase=lambda: "bench",
        sla=10,
        detector=UnsafeDetector(),
        on_slip=lambda late: slips.append((clock.now(), late)),
    )
    origin = clock.now()
    cpu0 = time.process_time()
    await generator.start(0, origin)
    await asyncio.sleep(WARMUP + seconds)
    cpu = (time.process_time() - cpu0) / (WARMUP + seconds)
    counted = [late for t, late in slips if t >= origin + WARMUP]
    answers = [e for e in events if isinstance(e, UserRequestFinished) and e.t >= origin + WARMUP]
    counts = generator.counts()
    await generator.stop()
    assert counts is not None
    bad = [e for e in answers if e.outcome != "ok"]
    if bad:
        raise SystemExit(f"the lab client saw {len(bad)} non-ok answers: {bad[0]}")
    return {
        "achieved": len(counted) / seconds,
        "answers": len(answers) / seconds,
        "slip_p50": percentile(counted, 50) or 0.0,
        "slip_p99": percentile(counted, 99) or 0.0,
        "slip_max": max(counted, default=0.0),
        "missed": counts.missed,
        "cpu": cpu,
    }


async def _inputs(
    target: TargetFile, inputs: dict[str, Any], users: int, seconds: float
) -> tuple[float, float, float]:
    """Closed users at the default think time sending `inputs`: requests/s, the lab
    process's CPU share and its CPU microseconds per request, over the counted window."""
    events: list[Event] = []
    generator = LoadGenerator(
        target=target,
        names={},
        base_url=target.request.url.rsplit("/", 1)[0],
        load=LoadSpec.model_validate({"users": users, "patience": 30, "inputs": inputs}),
        seed=1,
        clock=MonotonicClock(),
        publish=events.append,
        current_phase=lambda: "bench",
        sla=10,
        detector=UnsafeDetector(),
    )
    await generator.start(users)
    await asyncio.sleep(WARMUP)
    before, cpu0 = len(events), time.process_time()
    await asyncio.sleep(seconds)
    counted, cpu = len(events) - before, time.process_time() - cpu0
    await generator.stop()
    bad = [e for e in events if getattr(e, "outcome", "ok") != "ok"]
    if bad:
        raise SystemExit(f"the lab client saw {len(bad)} non-ok answers: {bad[0]}")
    return counted / seconds, cpu / seconds, cpu / max(counted, 1) * 1e6


def _document_rows(target: TargetFile, pages: int, users: int, seconds: float, repeat: int) -> None:
    kinds: dict[str, dict[str, Any]] = {
        "questions": {"questions": {}},
        f"documents ({pages} pages)": {"documents": {"pages": pages}},
    }
    samples: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in kinds}
    for _ in range(repeat):  # interleaved, so drift hits both rows alike
        for kind, inputs in kinds.items():
            samples[kind].append(asyncio.run(_inputs(target, inputs, users, seconds)))
    print(f"{'inputs':>22} {'users':>5} {'req/s':>7} {'lab cpu':>8} {'us/req':>8}")
    shares = {}
    for kind, got in samples.items():
        rate, cpu, cost = (statistics.median(s[i] for s in got) for i in range(3))
        shares[kind] = cpu
        print(f"{kind:>22} {users:>5} {rate:>7,.0f} {cpu:>8.1%} {cost:>8,.0f}")
    added = shares[f"documents ({pages} pages)"] - shares["questions"]
    print(f"documents add {added:.1%} of a core to the lab process (goal: under 20%)")


def _open_rows(target: TargetFile, rates: list[float], seconds: float, repeat: int) -> None:
    print(
        f"{'planned/s':>9} {'achieved/s':>10} {'answers/s':>9} {'slip p50':>9} {'slip p99':>9} "
        f"{'slip max':>9} {'missed':>7} {'lab cpu':>7}"
    )
    for rate in rates:
        runs = [asyncio.run(_open(target, rate, seconds)) for _ in range(repeat)]
        row = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(
            f"{rate:>9,.0f} {row['achieved']:>10,.0f} {row['answers']:>9,.0f} "
            f"{row['slip_p50'] * 1000:>7.1f}ms {row['slip_p99'] * 1000:>7.1f}ms "
            f"{row['slip_max'] * 1000:>7.1f}ms {row['missed']:>7,.0f} {row['cpu']:>7.0%}",
            flush=True,
        )


def _serve_streams(rate: float, tokens: int, ports: Any, ready: Any) -> None:
    async def main() -> None:
        port, _ = await serve_streams(rate, tokens)
        ports.put(port)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


async def _streams(url: str, users: int, seconds: float) -> dict[str, float]:
    """`users` closed users reading streams for WARMUP + seconds; figures over the window."""
    target = TargetFile.model_validate(
        {
            "name": "sse",
            "request": {"url": url + "/stream", "json": {"message": "{input}"}},
            "response": {"stream": {}},
        }
    )
    events: list[Event] = []
    late: list[float] = []
    counting = False

    def observe(data: dict[str, Any]) -> None:
        if counting:
            late.append(time.monotonic() - data["sent"])

    generator = LoadGenerator(
        target=target,
        names={},
        base_url=url,
        load=LoadSpec(users=users, think=0, ramp=WARMUP, patience=60),
        seed=1,
        clock=MonotonicClock(),
        publish=events.append,
        current_phase=lambda: "bench",
        sla=60,
        detector=UnsafeDetector(),
    )
    generator.client.observe = observe
    freeze_startup_objects()  # as `lab run` does once it is up (gaplab.runtime)
    await generator.start(users)
    await asyncio.sleep(WARMUP)
    async with aiohttp.ClientSession() as session, session.get(url + "/late") as r:
        await r.read()  # forget the server's warm-up lateness
    counting, cpu0 = True, time.process_time()
    await asyncio.sleep(seconds)
    counting, cpu = False, (time.process_time() - cpu0) / seconds
    async with aiohttp.ClientSession() as session, session.get(url + "/late") as r:
        server = await r.json()
    await generator.stop()
    finished = [e for e in events if isinstance(e, UserRequestFinished)]
    bad = [e for e in finished if e.outcome != "ok" or e.stream_end != "done"]
    if bad:
        raise SystemExit(f"{len(bad)} streams did not end properly: {bad[0]}")
    return {
        "events_per_s": len(late) / seconds,
        "late_p50": percentile(late, 50) or 0.0,
        "late_p99": percentile(late, 99) or 0.0,
        "late_max": max(late, default=0.0),
        "streams_done": len(finished),
        "server_p99": server["p99"] or 0.0,
        "cpu": cpu,
    }


def _stream_rows(args: argparse.Namespace) -> None:
    ports: Any = mp.Queue()
    ready = mp.Event()
    server = mp.Process(
        target=_serve_streams, args=(args.token_rate, args.tokens, ports, ready), daemon=True
    )
    server.start()
    ready.wait(30)
    url = f"http://127.0.0.1:{ports.get()}"
    print(
        f"{'streams':>7} {'tokens/s':>8} {'events/s':>9} {'late p50':>9} {'late p99':>9} "
        f"{'late max':>9} {'done':>6} {'server p99':>10} {'lab cpu':>7}"
    )
    try:
        for users in (int(u) for u in args.streams.split(",")):
            runs = [asyncio.run(_streams(url, users, args.seconds)) for _ in range(args.repeat)]
            row = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            print(
                f"{users:>7} {args.token_rate:>8g} {row['events_per_s']:>9,.0f} "
                f"{row['late_p50'] * 1000:>7.1f}ms {row['late_p99'] * 1000:>7.1f}ms "
                f"{row['late_max'] * 1000:>7.1f}ms {row['streams_done']:>6,.0f} "
                f"{row['server_p99'] * 1000:>8.1f}ms {row['cpu']:>7.0%}",
                flush=True,
            )
    finally:
        server.kill()


def _measure(run: Callable[[], Awaitable[Counted]], seconds: float) -> tuple[float, ...]:
    """Over the counted window: requests/s, client and server CPU shares, and the client's
    CPU microseconds per request (steadier than the rate on a shared, noisy machine)."""
    count, client, server = asyncio.run(run())
    return count / seconds, client / seconds, server / seconds, client / max(count, 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--users", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (median shown)")
    parser.add_argument("--open", action="store_true", help="open model: arrival rates")
    parser.add_argument("--rates", default="250,500,1000,2000,4000", help="with --open")
    parser.add_argument(
        "--documents", type=int, default=0, help="pages: documents against questions"
    )
    parser.add_argument("--stream", action="store_true", help="streams: the client's lateness")
    parser.add_argument("--streams", default="500", help="with --stream: concurrent streams")
    parser.add_argument("--token-rate", type=float, default=50.0, help="with --stream")
    parser.add_argument("--tokens", type=int, default=250, help="with --stream: per stream")
    args = parser.parse_args()
    if args.stream:
        _stream_rows(args)
        return
    ports: Any = mp.Queue()
    ready = mp.Event()
    server = mp.Process(target=_serve, args=(ports, ready), daemon=True)
    server.start()
    ready.wait(30)
    hello_port, provider_port = ports.get()
    assert server.pid is not None
    global SERVER_PID
    SERVER_PID = server.pid
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
    if args.documents:
        try:
            users = int(args.users) if args.users.isdigit() else 20
            _document_rows(hello_target, args.documents, users, args.seconds, args.repeat)
        finally:
            server.kill()
        return
    if args.open:
        try:
            rates = [float(r) for r in args.rates.split(",")]
            _open_rows(hello_target, rates, args.seconds, args.repeat)
        finally:
            server.kill()
        return
    hello_bodies, mock_bodies = _bodies(hello_target), _bodies(mock_target)
    print(
        f"{'users':>6} {'client':>6} {'endpoint':>8} {'req/s':>9} {'client cpu':>10} "
        f"{'server cpu':>10} {'us/req':>7}  ratio (rate; client CPU cost)"
    )
    try:
        for users in (int(u) for u in args.users.split(",")):
            runs = {
                ("bare", "hello"): lambda n=users: _bare(hello_url, hello_bodies, n, args.seconds),
                ("lab", "hello"): lambda n=users: _lab(hello_target, n, args.seconds),
                ("bare", "mock"): lambda n=users: _bare(mock_url, mock_bodies, n, args.seconds),
                ("lab", "mock"): lambda n=users: _lab(mock_target, n, args.seconds),
            }
            samples: dict[tuple[str, str], list[tuple[float, ...]]] = {key: [] for key in runs}
            for _ in range(args.repeat):  # interleaved, so drift hits every row alike
                for key, run in runs.items():
                    samples[key].append(_measure(run, args.seconds))
            rows = {key: statistics.median(s[0] for s in got) for key, got in samples.items()}
            costs = {key: statistics.median(s[3] for s in got) for key, got in samples.items()}
            for (client, endpoint), got in samples.items():
                rate = rows[(client, endpoint)]
                client_cpu = statistics.median(s[1] for s in got)
                server_cpu = statistics.median(s[2] for s in got)
                cost = costs[(client, endpoint)]
                if client == "lab":
                    bare = ("bare", endpoint)
                    ratio = f"lab/bare {rate / rows[bare]:.2f}; {costs[bare] / cost:.2f}"
                elif endpoint == "mock":
                    ratio = f"mock/hello {rate / rows[('bare', 'hello')]:.2f}"
                else:
                    ratio = "baseline"
                print(
                    f"{users:>6} {client:>6} {endpoint:>8} {rate:>9,.0f} {client_cpu:>10.0%} "
                    f"{server_cpu:>10.0%} {cost:>7.0f}  {ratio}",
                    flush=True,
                )
    finally:
        server.kill()


if __name__ == "__main__":
    main()
