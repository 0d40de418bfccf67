"""Does the live screen keep up with a busy run, and leave the engine's loop alone?

The TUI's live screen runs headless (`App.run_test`) at a terminal size, on the same event
loop as a feeder that publishes synthetic run events on the run's bus at a fixed rate
(user requests, their provider calls, an outage phase with errors, phase edges: the mix a
real run makes), through the real aggregator, record and journal-free bus. It measures:

  tick     the UI tick: `refresh_from_snapshot` (snapshot + every widget's update) in ms
  render   one repaint of the screen (Textual's compositor: the widgets' lines), in ms
  frame    a tick plus the repaint that follows it, in ms
  lag      the loop lag a 10 ms timer sees (what the engine's LabMonitor measures), in ms

and prints median and p99 of each (`--no-ui`: the feeder alone, for the loop lag the
aggregator and bus cost without the screen). The engine itself (provider, target, load generator)
is not running: the feeder stands in for what it publishes, so the numbers are the UI's
cost per tick and what it takes from the loop.

    python bench/tui.py [--rate 2000] [--seconds 6] [--size 160x48]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from gaplab.engine.clock import MonotonicClock
from gaplab.engine.events import (
    FaultChanged,
    LabHealth,
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunStarted,
    UserRequestFinished,
)
from gaplab.engine.run import LabRun, RunOptions
from gaplab.provider.journal import ProviderCall
from gaplab.scenario.models import Scenario
from gaplab.target.resolve import resolve_target

SCENARIO = Scenario.model_validate(
    {
        "name": "bench",
        "title": "Bench: a busy run with an outage",
        "phases": [
            {"name": "baseline", "for": "10s"},
            {"name": "outage", "for": "10s", "faults": [{"provider": {"error": 503}}]},
            {"name": "recovery", "for": "10s"},
        ],
        "checks": ["resilience.fallback", "resilience.recovery", "resilience.contained"],
    }
)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def feed(run: LabRun, rate: int, seconds: float, stop: asyncio.Event) -> int:
    """Publish `rate` events a second (half requests, half calls) in 10 ms batches."""
    clock, bus = run.clock, run.bus
    bus.publish(
        RunStarted(
            t=clock.now(),
            run_id=run.run_id,
            scenario="bench",
            title=SCENARIO.title,
            target="bench",
            seed=1,
            sla=10.0,
            phases=tuple((p.name, p.duration) for p in SCENARIO.phases),
            provider_base_url="http://127.0.0.1:1/v1",
            target_base_url="http://127.0.0.1:2",
        )
    )
    phases = [(p.name, p.duration, bool(p.faults)) for p in SCENARIO.phases]
    origin = clock.now()
    sent, n, phase_index = 0, 0, -1
    while not stop.is_set() and clock.now() - origin < seconds:
        now = clock.now()
        due = int((now - origin) * rate / 2) - n  # request + call pairs behind schedule
        offset = (now - origin) % sum(d for _, d, _ in phases)
        index = 0
        while offset >= phases[index][1]:
            offset -= phases[index][1]
            index += 1
        name, duration, faulty = phases[index]
        if index != phase_index:
            if phase_index >= 0:
                bus.publish(PhaseEnded(t=now, phase=phases[phase_index][0], index=phase_index))
            faults = ("provider: error 503",) if faulty else ()
            bus.publish(
                PhaseStarted(
                    t=now,
                    phase=name,
                    index=index,
                    duration=duration,
                    faults=faults,
                    outage=faulty,
                    slow=0.0,
                )
            )
            bus.publish(FaultChanged(t=now, phase=name, faults=faults))
            phase_index = index
        for _ in range(max(0, due)):
            n += 1
            status = 503 if faulty else 200
            call = ProviderCall(
                call_id=f"c{n}",
                dialect="openai",
                path="/v1/chat/completions",
                t_arrival=now - 0.2,
                t_first_byte=now - 0.1,
                t_end=now,
                status=status,
                outcome="error" if faulty else "completed",
                cost_usd=0.00002,
                retry_count=n % 3 if faulty else 0,
                read_timeout=600.0,
            )
            bus.publish(ProviderCallRecorded(t=now, call=call))
            bus.publish(
                UserRequestFinished(
                    t=now,
                    request_id=f"r{n}",
                    user=f"user-{n % 50:04d}",
                    phase=name,
                    started=now - 0.25,
                    latency=0.25 if not faulty else 0.01,
                    outcome="error" if faulty else "ok",
                    status=500 if faulty else 200,
                    detail="HTTP 500" if faulty else "",
                )
            )
            sent += 2
        if due > 0 and n % 1000 < due:
            bus.publish(
                LabHealth(
                    t=now,
                    load_model="closed",
                    window=5.0,
                    window_lag_p50=0.001,
                    window_lag_p99=0.004,
                    window_slip_p50=None,
                    window_slip_p99=None,
                    run_lag_p50=0.001,
                    run_lag_p99=0.004,
                    run_lag_max=0.01,
                    run_slip_p50=None,
                    run_slip_p99=None,
                    run_slip_max=None,
                )
            )
        await asyncio.sleep(0.01)
    return sent


async def lag_probe(stop: asyncio.Event, lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.01)
        lags.append(max(0.0, loop.time() - before - 0.01) * 1000)


async def bench(rate: int, seconds: float, size: tuple[int, int], ui: bool = True) -> None:
    from gaplab.tui.app import GaplabApp
    from gaplab.tui.screens.live import LiveRunScreen

    runs = Path(tempfile.mkdtemp(prefix="gaplab-bench-tui-"))
    data = Path(__file__).parent.parent / "tests" / "tui" / "data"
    target = resolve_target(str(data / "provider-direct.yaml"), relative_to=data)
    run = LabRun(
        RunOptions(scenario=SCENARIO, target=target, target_label="bench", runs_dir=runs),
        clock=MonotonicClock(),
    )
    ticks: list[float] = []
    renders: list[float] = []
    lags: list[float] = []

    class Timed(LiveRunScreen):
        def refresh_from_snapshot(self, *, everything: bool = False) -> None:
            start = time.perf_counter()
            super().refresh_from_snapshot(everything=everything)
            ticks.append((time.perf_counter() - start) * 1000)

        def _compositor_refresh(self) -> None:
            start = time.perf_counter()
            super()._compositor_refresh()
            renders.append((time.perf_counter() - start) * 1000)

    app = GaplabApp()
    async with app.run_test(size=size) as pilot:
        from gaplab import runtime

        runtime.freeze_startup_objects()  # as run_app does once the app is up (freeze_gc)
        if ui:
            app.push_screen(Timed(run))
        await pilot.pause(0.5)
        stop = asyncio.Event()
        probe = asyncio.create_task(lag_probe(stop, lags))
        sent = await feed(run, rate, seconds, stop)
        stop.set()
        await probe
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{size[0]}x{size[1]}, {sent / seconds:,.0f} events/s for {seconds:g} s: "
        f"{len(ticks)} ticks (load average {load:.1f} on {os.cpu_count()} cores)"
    )
    frames = [t + r for t, r in zip(ticks, renders[-len(ticks) :], strict=False)]
    for name, values in (("tick", ticks), ("render", renders), ("frame", frames), ("lag", lags)):
        if not values:
            continue
        print(
            f"  {name:<6} median {statistics.median(values):6.2f} ms   "
            f"p99 {percentile(values, 99):6.2f} ms   max {max(values):6.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=2000, help="events per second")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--size", default="160x48", help="terminal size, e.g. 80x24")
    parser.add_argument(
        "--no-ui", action="store_true", help="the feeder alone: the loop lag without the screen"
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    asyncio.run(bench(args.rate, args.seconds, (width, height), ui=not args.no_ui))


if __name__ == "__main__":
    main()
