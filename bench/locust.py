"""How the Locust path (`--load locust`) compares with the built-in load generator.

One run, one target: a bare aiohttp "hello" endpoint in a child process (so the target is
never what is measured). For each load path in turn, N closed users with no think time
send requests for --seconds after a warm-up, and the bench prints the requests per second
the lab received (as `UserRequestFinished` events: what every check sees), the CPU share of
the lab process and of the Locust processes, and the client CPU microseconds per request
(lab + Locust processes, over the counted window): the per-request overhead of each path.

  builtin          the lab's own LoadGenerator (aiohttp, in the lab's process)
  locust local     Locust's local runner, one process (FastHttpUser, gevent)
  locust 1 worker  a Locust master and 1 local worker
  locust 2 workers a Locust master and 2 local workers

    python bench/locust.py [--users 50] [--seconds 6] [--workers 0,1,2] [--repeat 3]

On a machine with C cores, a path can use at most C of them; the target and the lab share
them too. docs/scale.md works from these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from common import serve_hello  # bench/common.py
from gaplab.engine.clock import MonotonicClock
from gaplab.engine.events import Event
from gaplab.load.generator import LoadGenerator
from gaplab.locust_load.process import LocustLoad
from gaplab.scenario.models import LoadSpec
from gaplab.scenario.target_models import TargetFile
from gaplab.target.unsafe import UnsafeDetector

WARMUP = 3.0  # seconds: connections opened, Locust's users spawned


def _serve(ports: Any) -> None:
    async def main() -> None:
        ports.put(await serve_hello("/chat"))
        await asyncio.Event().wait()

    asyncio.run(main())


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _locust_processes() -> list[psutil.Process]:
    return [
        p
        for p in psutil.Process().children(recursive=True)
        if "gaplab.locust_load.main" in " ".join(p.cmdline())
    ]


async def _measure(
    kind: str, workers: int, target: TargetFile, users: int, seconds: float, run_dir: Path
) -> dict[str, float]:
    events: list[Event] = []
    clock = MonotonicClock()
    load = LoadSpec(users=users, think=0, patience=30)
    common: dict[str, Any] = {
        "target": target,
        "names": {},
        "base_url": target.request.url.rsplit("/", 1)[0],
        "load": load,
        "seed": 1,
        "clock": clock,
        "publish": events.append,
        "current_phase": lambda: "bench",
        "sla": 10,
        "detector": UnsafeDetector(),
    }
    generator: LoadGenerator | LocustLoad
    if kind == "builtin":
        generator = LoadGenerator(**common)
    else:
        generator = LocustLoad(**common, run_dir=run_dir, workers=workers)
        await generator.prepare()
    await generator.start(users)
    await asyncio.sleep(WARMUP)
    helpers = _locust_processes()
    before, lab0, locust0, t0 = len(events), time.process_time(), _cpu(helpers), time.monotonic()
    await asyncio.sleep(seconds)
    counted = len(events) - before
    lab1, locust1, t1 = time.process_time(), _cpu(helpers), time.monotonic()
    await generator.stop()
    bad = [e for e in events if getattr(e, "outcome", "ok") != "ok"]
    if bad:
        raise SystemExit(f"{kind}: {len(bad)} non-ok answers, e.g. {bad[0]}")
    wall = t1 - t0
    client = (lab1 - lab0) + (locust1 - locust0)
    return {
        "rate": counted / wall,
        "lab_cpu": (lab1 - lab0) / wall,
        "locust_cpu": (locust1 - locust0) / wall,
        "us_per_request": client / counted * 1e6 if counted else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--workers", default="0,1,2", help="Locust worker counts (0: local)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs per path")
    args = parser.parse_args()
    ports: Any = mp.Queue()
    server = mp.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    port = ports.get(timeout=30)
    target = TargetFile.model_validate(
        {
            "name": "hello",
            "request": {"url": f"http://127.0.0.1:{port}/chat", "json": {"message": "{input}"}},
            "response": {"answer": "$.answer"},
        }
    )
    runs = [("builtin", "builtin", 0)] + [
        ("locust", "locust local" if w == 0 else f"locust {w} worker{'s' * (w > 1)}", w)
        for w in (int(x) for x in args.workers.split(","))
    ]
    print(
        f"{args.users} closed users, no think time, {args.seconds:g} s counted, median of "
        f"{args.repeat} interleaved runs; {os.cpu_count()} cores"
    )
    print(f"{'load path':>18} {'req/s':>8} {'lab cpu':>8} {'locust cpu':>11} {'us/req':>8}")
    results: dict[str, list[dict[str, float]]] = {label: [] for _, label, _ in runs}
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(args.repeat):
            for kind, label, workers in runs:
                run_dir = Path(folder) / f"{label.replace(' ', '-')}-{attempt}"
                run_dir.mkdir()
                results[label].append(
                    asyncio.run(_measure(kind, workers, target, args.users, args.seconds, run_dir))
                )
    for _, label, _ in runs:
        got = {k: statistics.median(r[k] for r in results[label]) for k in results[label][0]}
        print(
            f"{label:>18} {got['rate']:8.0f} {got['lab_cpu']:8.0%} "
            f"{got['locust_cpu']:11.0%} {got['us_per_request']:8.0f}"
        )
    server.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
