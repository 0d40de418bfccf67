"""One lab run: start the parts, play the timeline, stop everything, decide the checks.

Start order: mock provider, network proxy (when the scenario has network faults), target,
virtual users. Teardown runs in reverse on every path (normal end, error, Ctrl-C/SIGTERM
cancellation), so no process or port the lab opened outlives it; the checks are evaluated
on whatever was recorded, and an interrupted run is marked partial.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gaplab.checks.base import CheckContext, CheckResult
from gaplab.checks.decide import decide
from gaplab.checks.registry import evaluate
from gaplab.checks.scoring import DEFAULT_FAIL_UNDER, Scorecard
from gaplab.engine.bus import EventBus
from gaplab.engine.clock import Clock, MonotonicClock
from gaplab.engine.events import (
    CheckEvaluated,
    FaultChanged,
    FaultCoverage,
    LogMessage,
    ManualFault,
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunFinished,
    RunStarted,
)
from gaplab.engine.journal import JOURNAL_NAME, JournalWriter
from gaplab.engine.manual import ManualPreset
from gaplab.engine.monitor import LabMonitor
from gaplab.engine.probes import TargetProber, probes_needed
from gaplab.engine.reachability import check_reachable, refused_everything
from gaplab.engine.record import RunRecord
from gaplab.engine.secrets import (
    DIR_MODE,
    create_private_file,
    make_private_dir,
    write_masked_json,
)
from gaplab.engine.timeline import PlannedPhase, plan
from gaplab.errors import LabError
from gaplab.load.generator import LoadGenerator
from gaplab.locust_load.process import LocustLoad
from gaplab.metrics.aggregator import Aggregator
from gaplab.metrics.snapshot import Snapshot
from gaplab.netfault import NetworkFaults
from gaplab.netfault.spec import NetworkFault
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.server import MockProvider
from gaplab.scenario.models import Scenario
from gaplab.scenario.target_models import TargetFile
from gaplab.target.ports import free_port
from gaplab.target.process import TargetProcess
from gaplab.target.template import render
from gaplab.target.unsafe import UnsafeDetector

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    scenario: Scenario
    target: TargetFile
    target_label: str
    seed: int | None = None
    runs_dir: Path = Path("runs")
    toxiproxy_url: str | None = None
    fail_under: float = DEFAULT_FAIL_UNDER
    # Route the provider through the network proxy even when the scenario has no network
    # fault, so one can be applied by hand (the TUI's network cut).
    network_proxy: bool = False
    load_engine: str = "builtin"  # or "locust" (gaplab.locust_load)
    locust_workers: int = 0  # local Locust workers (0: Locust's local runner)
    expect_workers: int | None = None  # workers the Locust master waits for (remote too)
    locust_port: int | None = None  # where the Locust master listens for workers


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    status: str  # "completed" | "interrupted" | "failed"
    scorecard: Scorecard
    record: RunRecord
    error: LabError | None = None
    target_log: Path | None = None


@dataclass
class _Parts:
    provider: MockProvider | None = None
    network: NetworkFaults | None = None
    target: TargetProcess | None = None
    load: LoadGenerator | LocustLoad | None = None
    monitor: LabMonitor | None = None
    prober: TargetProber | None = None


class LabRun:
    def __init__(
        self, options: RunOptions, *, clock: Clock | None = None, bus: EventBus | None = None
    ) -> None:
        self.options = options
        self.scenario = options.scenario
        self.seed = options.seed if options.seed is not None else options.scenario.seed
        self.sla = options.target.sla or options.scenario.sla
        self.clock = clock or MonotonicClock()
        self.bus = bus or EventBus()
        self.aggregator = Aggregator()
        self.record = RunRecord()
        self.bus.subscribe(self.record)
        # What must never reach users, learned from the provider journal as calls arrive.
        self.detector = UnsafeDetector(options.target.response.link_hosts)
        self.bus.subscribe(self.aggregator)
        self.run_id = _new_run_id(options.runs_dir, self.scenario.name)
        self.run_dir = options.runs_dir / self.run_id
        self.phase_name = "starting"
        self._parts = _Parts()
        self._ticked: set[str] = set()
        self._target_base_url = ""
        # Faults applied by hand (gaplab.engine.manual), on top of the phase's own ones.
        self._manual: dict[str, tuple[ManualPreset, float, str]] = {}  # (preset, t, phase)
        self._manual_timers: dict[str, asyncio.TimerHandle] = {}
        self._step: PlannedPhase | None = None
        self._phase_faults_on = False
        self._background: set[asyncio.Task[None]] = set()
        # Fault counters survive a change of the active faults (the provider and the proxy
        # count from each `set_faults`/`apply`): keyed ("phase", i) or ("manual", name).
        self._provider_keys: list[tuple[str, object]] = []
        self._network_keys: list[tuple[str, object]] = []
        self._banked: dict[tuple[str, object], dict[str, int | None]] = {}

    def snapshot(self) -> Snapshot:
        now = self.clock.now()
        self.aggregator.now = max(self.aggregator.now, now)
        load, provider = self._parts.load, self._parts.provider
        if load is not None:
            if isinstance(load, LocustLoad):  # the Locust users', as their workers report
                count, oldest = load.in_flight_now()
            else:
                pending = load.client.in_flight
                count = len(pending)
                oldest = min((f.started for f in pending.values()), default=None)
            self.aggregator.note_in_flight(
                now,
                count,
                None if oldest is None else now - oldest,
                provider.in_flight if provider is not None else 0,
            )
        return self.aggregator.snapshot()

    # -- faults applied by hand ---------------------------------------------------------------

    @property
    def manual_faults(self) -> tuple[str, ...]:
        """Names of the presets applied by hand and not cleared yet."""
        return tuple(self._manual)

    def manual_unavailable(self, preset: ManualPreset) -> str | None:
        """Why `preset` cannot be applied now, or None."""
        if self._parts.load is None or self._step is None:
            return "the run is not under way"
        if preset.network is not None and self._parts.network is None:
            return "this run has no network proxy (start it from the TUI, or with a network fault)"
        if preset.inputs is not None and isinstance(self._parts.load, LocustLoad):
            return "the Locust workers draw their own inputs (use the built-in load for a burst)"
        return None

    async def apply_manual(self, preset: ManualPreset) -> None:
        """Apply `preset` now, on top of the phase's faults, until `clear_manual` (or its
        `lasts`). Raises `LabError` when it cannot be applied (`manual_unavailable`)."""
        reason = self.manual_unavailable(preset)
        if reason is not None:
            raise LabError(f"cannot apply {preset.title}: {reason}")
        if preset.name in self._manual:
            return
        self._manual[preset.name] = (preset, self.clock.now(), self.phase_name)
        await self._sync_faults()
        self._publish_manual("apply", preset)
        if preset.lasts:
            self._manual_timers[preset.name] = asyncio.get_running_loop().call_later(
                preset.lasts, self._clear_later, preset.name
            )

    def _clear_later(self, name: str) -> None:
        self._manual_timers.pop(name, None)
        task = asyncio.ensure_future(self.clear_manual(name))
        self._background.add(task)  # a reference until it is done
        task.add_done_callback(self._background.discard)

    async def clear_manual(self, name: str | None = None) -> None:
        """Clear the preset `name` (None: every one) and publish what it hit."""
        names = [name] if name is not None else list(self._manual)
        cleared = [self._manual[n] for n in names if n in self._manual]
        if not cleared:
            return
        self._bank_counters()
        for preset, _, _ in cleared:
            timer = self._manual_timers.pop(preset.name, None)
            if timer is not None:
                timer.cancel()
            self._publish_manual_coverage(preset.name)
            del self._manual[preset.name]
        await self._sync_faults()
        for preset, _, _ in cleared:
            self._publish_manual("clear", preset)

    def _publish_manual(self, action: str, preset: ManualPreset) -> None:
        now = self.clock.now()
        self.bus.publish(
            ManualFault(
                t=now,
                action=action,
                name=preset.name,
                fault=preset.describe(),
                source=preset.source,
                phase=self.phase_name,
                spec=preset.spec(),
            )
        )
        self.bus.publish(
            FaultChanged(t=now, phase=self.phase_name, faults=self._active(), source="manual")
        )

    def _active(self) -> tuple[str, ...]:
        step = self._step
        planned = step.descriptions if step is not None and self._phase_faults_on else ()
        return (*planned, *(p.describe() for p, _, _ in self._manual.values()))

    def _publish_manual_coverage(self, name: str) -> None:
        preset, _, phase = self._manual[name]
        counts = self._banked.pop(("manual", name), {})
        hits = counts.get("fired") if preset.provider is not None else counts.get("hits")
        self.bus.publish(
            FaultCoverage(
                t=self.clock.now(),
                phase=phase,
                index=-1,
                fault=preset.describe(),
                source=preset.source,
                hits=hits,
                matched=counts.get("matched"),
                manual=True,
            )
        )

    def _bank_counters(self) -> None:
        """Add what the active faults hit so far to the bank, before they are replaced."""
        provider, network = self._parts.provider, self._parts.network
        if provider is not None:
            for key, counts in zip(self._provider_keys, provider.fault_counters(), strict=False):
                banked = self._banked.setdefault(key, {"matched": 0, "fired": 0})
                for field_name in ("matched", "fired"):
                    banked[field_name] = (banked.get(field_name) or 0) + counts[field_name]
        if network is not None:
            for key, hits in zip(self._network_keys, network.coverage(), strict=False):
                banked = self._banked.setdefault(key, {"hits": 0})
                banked["hits"] = None if hits is None else (banked.get("hits") or 0) + hits

    async def _sync_faults(self) -> None:
        """Make the phase's faults (while on) plus the manual ones the active faults."""
        self._bank_counters()
        step = self._step if self._phase_faults_on else None
        provider_faults: list[tuple[tuple[str, object], ProviderFault]] = [
            (("phase", i), f) for i, f in enumerate(_provider_faults(step))
        ]
        network_faults: list[tuple[tuple[str, object], NetworkFault]] = [
            (("phase", i), f) for i, f in enumerate(_network_faults(step))
        ]
        inputs: str | None = None
        for preset, _, _ in self._manual.values():
            if preset.provider is not None:
                provider_faults.append((("manual", preset.name), preset.provider))
            if preset.network is not None:
                network_faults.append((("manual", preset.name), preset.network))
            if preset.inputs is not None:
                inputs = preset.inputs
        provider, network, load = self._parts.provider, self._parts.network, self._parts.load
        if provider is not None:
            self._provider_keys = [key for key, _ in provider_faults]
            # The phase's length: a latency ramp moves across it; rate limits set by the
            # phase last as long as it does (clearing brings the profile's back).
            span = step.phase.duration if step is not None else None
            provider.set_faults([fault for _, fault in provider_faults], span=span)
        if network is not None:
            self._network_keys = [key for key, _ in network_faults]
            await network.apply([fault for _, fault in network_faults])
        if load is not None and not isinstance(load, LocustLoad):
            load.mix.force(inputs)

    def publish_call(self, call: ProviderCall) -> None:
        if isinstance(self._parts.load, LocustLoad):  # its workers judge answers too
            self._parts.load.teach(self.detector.lesson(call))
        self.detector.learn(call)
        self.bus.publish(ProviderCallRecorded(t=call.t_end, call=call))

    async def execute(self) -> RunResult:
        """Run the scenario to the end, or until cancelled; always tears down."""
        make_private_dir(self.run_dir)  # owner-only: run folders travel as CI artifacts
        create_private_file(self.run_dir / JOURNAL_NAME)  # 0o600 before the journal opens it
        journal = JournalWriter(self.run_dir / JOURNAL_NAME)
        self.bus.subscribe(journal)
        self._write_inputs()
        status, error = "completed", None
        try:
            await self._run()
        except asyncio.CancelledError:
            status = "interrupted"
            self._log("warning", "interrupted: stopping every part and writing the partial report")
        except LabError as exc:
            status, error = "failed", exc
            self._log("error", str(exc))
        finally:
            stopped_at = self.clock.now()
            await self._teardown()
        scorecard = decide(
            self.scenario,
            self.record,
            self.sla,
            status=status,
            fail_under=self.options.fail_under,
            stopped_at=None if status == "completed" else stopped_at,
            target=self.options.target,
        )
        for result in scorecard.results:
            self._publish_check(result, final=True)
        self.bus.publish(
            RunFinished(
                t=self.clock.now(),
                status=status,
                reason=str(error) if error else "",
                extra={
                    "score": scorecard.score,
                    "ready": scorecard.ready,
                    "complete": scorecard.complete,
                    # when it stopped, so `lab report` words an unfinished run the same
                    "stopped_at": None if status == "completed" else stopped_at,
                },
            )
        )
        journal.close()
        target_log = self.run_dir / "target.log"
        return RunResult(
            self.run_id,
            self.run_dir,
            status,
            scorecard,
            self.record,
            error,
            target_log if target_log.exists() else None,
        )

    def _publish_check(self, result: CheckResult, *, final: bool) -> None:
        self.bus.publish(
            CheckEvaluated(
                t=self.clock.now(),
                check_id=result.id,
                verdict=result.verdict.value,
                summary=result.summary,
                final=final,
            )
        )

    def _tick_checks(self) -> None:
        """Publish the checks the phases so far already decide (front ends tick them); the
        final verdicts come at the end of the run."""
        context = CheckContext(
            self.scenario, self.record, self.sla, "running", target=self.options.target
        )
        for result in evaluate(context, decided_only=True):
            if result.id not in self._ticked:
                self._ticked.add(result.id)
                self._publish_check(result, final=False)

    def _write_inputs(self) -> None:
        write_masked_json(
            self.run_dir / "scenario.json", self.scenario.model_dump(mode="json", by_alias=True)
        )
        write_masked_json(
            self.run_dir / "target.json",
            {
                "label": self.options.target_label,
                **self.options.target.model_dump(mode="json", by_alias=True),
            },
        )

    def _log(self, level: str, message: str) -> None:
        self.bus.publish(LogMessage(t=self.clock.now(), level=level, message=message))

    async def _run(self) -> None:
        provider = MockProvider(
            self.scenario.provider, seed=self.seed, clock=self.clock, on_call=self.publish_call
        )
        self._parts.provider = provider
        await provider.start()
        openai_base_url = provider.openai_base_url
        anthropic_base_url = provider.anthropic_base_url
        if (
            self.scenario.uses_network_faults
            or self.options.toxiproxy_url
            or self.options.network_proxy
        ):
            network = NetworkFaults(toxiproxy_url=self.options.toxiproxy_url, seed=self.seed)
            self._parts.network = network
            await network.start()
            host, port = await network.route("provider", "127.0.0.1", provider.port)
            openai_base_url = f"http://{host}:{port}/v1"
            anthropic_base_url = f"http://{host}:{port}"

        target = self.options.target
        names = {
            "provider.openai_base_url": openai_base_url,
            "provider.anthropic_base_url": anthropic_base_url,
        }
        if target.start is not None:
            names["port"] = str(free_port())
        request_url = render(target.request.url, names)
        parts = urlsplit(request_url)
        base_url = f"{parts.scheme}://{parts.netloc}"
        if target.start is not None:
            process = TargetProcess(target.start, names, self.run_dir / "target.log", base_url)
            self._parts.target = process
            await process.start()
        else:  # unmanaged: the lab expects it to be running already
            await check_reachable(base_url)
        self._target_base_url = base_url
        prober = TargetProber(
            target,
            base_url,
            names,
            probes_needed(self.scenario),
            clock=self.clock,
            publish=self.bus.publish,
            current_phase=lambda: self.phase_name,
            calls_seen=lambda: self.record.calls,
            seed=self.seed,
        )
        self._parts.prober = prober

        planned = plan(self.scenario)
        self.bus.publish(
            RunStarted(
                t=self.clock.now(),
                run_id=self.run_id,
                scenario=self.scenario.name,
                title=self.scenario.title,
                target=self.options.target_label,
                seed=self.seed,
                sla=self.sla,
                phases=tuple((p.phase.name, p.phase.duration) for p in planned),
                provider_base_url=openai_base_url,
                target_base_url=base_url,
            )
        )
        monitor = LabMonitor(
            self.clock,
            self.bus.publish,
            load_model="open" if self.scenario.load.open else "closed",
        )
        # What both load engines take alike; Locust adds its processes' run folder and workers.
        common: dict[str, Any] = {
            "target": target,
            "names": names,
            "base_url": base_url,
            "load": self.scenario.load,
            "seed": self.seed,
            "clock": self.clock,
            "publish": self.bus.publish,
            "current_phase": lambda: self.phase_name,
            "sla": self.sla,
            "detector": self.detector,
            "phase_rates": [(p.phase.duration, p.phase.arrival) for p in planned],
            "on_slip": monitor.record_slip,
        }
        load: LoadGenerator | LocustLoad
        if self.options.load_engine == "locust":
            load = LocustLoad(
                **common,
                run_dir=self.run_dir,
                workers=self.options.locust_workers,
                expect_workers=self.options.expect_workers,
                master_port=self.options.locust_port,
            )
        else:
            load = LoadGenerator(**common)
        monitor.counts = load.counts
        self._parts.monitor, self._parts.load = monitor, load
        self.phase_name = planned[0].phase.name
        # The monitor watches from before the users start: starting them is load too.
        monitor.start()
        await prober.start()
        try:
            if isinstance(load, LocustLoad):
                # Locust's processes start and connect first: the first phase keeps its length.
                await load.prepare()
            origin = self.clock.now()
            await load.start(planned[0].phase.users or self.scenario.load.users, origin)
            await monitor.watch(self._timeline(planned, origin))
        finally:
            await monitor.stop()

    async def _timeline(self, planned: list[PlannedPhase], origin: float) -> None:
        for step in planned:
            await self._play(step, origin)

    async def _play(self, step: PlannedPhase, origin: float) -> None:
        phase = step.phase
        self.phase_name = phase.name
        # The phase starts when its faults start being applied: a request sent while the
        # proxy or the prober is still busy with it belongs to this phase, not the one
        # before (on a busy machine applying a toxic can take longer than a think time).
        started = self.clock.now()
        if isinstance(self._parts.load, LocustLoad):  # its processes label requests too
            self._parts.load.phase_changed()
        await self._apply(step)
        if self._parts.prober is not None:
            await self._parts.prober.phase_started(phase)
        if self._parts.load is not None:
            self._parts.load.set_users(
                phase.users if phase.users is not None else self.scenario.load.users
            )
        self.bus.publish(
            PhaseStarted(
                t=started,
                phase=phase.name,
                index=step.index,
                duration=phase.duration,
                faults=step.descriptions,
                outage=step.outage,
                slow=step.slow,
            )
        )
        if step.descriptions:
            self.bus.publish(
                FaultChanged(t=self.clock.now(), phase=phase.name, faults=self._active())
            )
        await asyncio.sleep(max(0.0, origin + step.end - self.clock.now()))
        if step.descriptions:
            self._publish_coverage(step)
            await self._clear()
            self.bus.publish(
                FaultChanged(t=self.clock.now(), phase=phase.name, faults=self._active())
            )
        if self._parts.prober is not None:
            await self._parts.prober.phase_ended(phase)
        self.bus.publish(PhaseEnded(t=self.clock.now(), phase=phase.name, index=step.index))
        if isinstance(self._parts.load, LocustLoad):
            self._parts.load.check_workers()
        self._check_connections(step)
        self._tick_checks()

    def _check_connections(self, step: PlannedPhase) -> None:
        """Up to the baseline's end: a target that every request failed to connect to is
        not running (gaplab.engine.reachability)."""
        baseline = self.scenario.baseline()
        load = self._parts.load
        if load is None or baseline is None or step.index > self.scenario.phases.index(baseline):
            return
        error = refused_everything(load.connections(step.phase.name), self._target_base_url)
        if error is not None:
            raise error

    def _publish_coverage(self, step: PlannedPhase) -> None:
        """How many calls (connections) each fault of the phase hit: the proof it fired."""
        provider, network = self._parts.provider, self._parts.network
        self._bank_counters()
        self._provider_keys = self._network_keys = []  # banked: counted once
        provider_index = network_index = 0
        for index, entry in enumerate(step.phase.faults):
            matched = None
            if entry.provider is not None:
                counts = self._banked.pop(("phase", provider_index), None)
                provider_index += 1
                if provider is None or counts is None:
                    hits = None
                else:
                    hits, matched = counts["fired"], counts["matched"]
            else:
                banked = self._banked.pop(("phase", network_index), None)
                network_index += 1
                hits = None if network is None or banked is None else banked["hits"]
            self.bus.publish(
                FaultCoverage(
                    t=self.clock.now(),
                    phase=step.phase.name,
                    index=index,
                    fault=entry.describe(),
                    source=entry.source,
                    hits=hits,
                    matched=matched,
                )
            )

    async def _apply(self, step: PlannedPhase) -> None:
        self._step, self._phase_faults_on = step, True
        self._banked = {k: v for k, v in self._banked.items() if k[0] == "manual"}
        if step.provider_faults or step.network_faults or self._manual:
            await self._sync_faults()

    async def _clear(self) -> None:
        self._phase_faults_on = False
        await self._sync_faults()

    def _end_manual(self) -> None:
        """Manual faults still on at the end: publish what they hit (they end with the run)."""
        if not self._manual:
            return
        try:
            self._bank_counters()
        except Exception as exc:  # a proxy already gone: the hits are unknown
            self._log("warning", f"counting the manual faults' hits failed: {exc!r}")
        for name in list(self._manual):
            timer = self._manual_timers.pop(name, None)
            if timer is not None:
                timer.cancel()
            self._publish_manual_coverage(name)
        self._manual.clear()

    async def _teardown(self) -> None:
        """Stop users, target, proxy and provider, in that order; each step is bounded."""
        self._end_manual()
        self.phase_name = "stopping"
        parts = self._parts
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        if parts.load is not None:
            steps.append(("virtual users", parts.load.stop))
        if parts.monitor is not None:
            monitor = parts.monitor

            async def final_figures() -> None:
                monitor.publish_final()

            steps.append(("lab monitor", final_figures))
        if parts.prober is not None:
            steps.append(("target prober", parts.prober.stop))
        if parts.target is not None:
            steps.append(("target", parts.target.stop))
        if parts.network is not None:
            steps.append(("network proxy", parts.network.close))
        if parts.provider is not None:
            steps.append(("mock provider", parts.provider.stop))
        for name, stop in steps:
            try:
                await asyncio.wait_for(stop(), timeout=15)
            except (Exception, asyncio.CancelledError) as exc:  # keep stopping the others
                self._log("error", f"stopping the {name} failed: {exc!r}")
        self._parts = _Parts()


def _provider_faults(step: PlannedPhase | None) -> tuple[ProviderFault, ...]:
    return step.provider_faults if step is not None else ()


def _network_faults(step: PlannedPhase | None) -> tuple[NetworkFault, ...]:
    return step.network_faults if step is not None else ()


def _new_run_id(runs_dir: Path, name: str) -> str:
    """A fresh run id, its folder claimed at once (owner-only): two labs starting the same
    scenario in the same second, in one process or in two, never share a folder."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    runs_dir.mkdir(parents=True, exist_ok=True)
    run_id = f"{stamp}-{name}"
    suffix = 1
    while True:
        try:
            os.mkdir(runs_dir / run_id, DIR_MODE)
        except FileExistsError:
            suffix += 1
            run_id = f"{stamp}-{name}-{suffix}"
            continue
        return run_id
