"""One lab run: start the parts, play the timeline, stop everything, decide the checks.

Start order: mock provider, network proxy (when the scenario has network faults), target,
virtual users. Teardown runs in reverse on every path (normal end, error, Ctrl-C/SIGTERM
cancellation), so no process or port the lab opened outlives it; the checks are evaluated
on whatever was recorded, and an interrupted run is marked partial.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
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
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunFinished,
    RunStarted,
)
from gaplab.engine.journal import JOURNAL_NAME, JournalWriter
from gaplab.engine.monitor import LabMonitor
from gaplab.engine.probes import TargetProber, probes_needed
from gaplab.engine.reachability import check_reachable, refused_everything
from gaplab.engine.record import RunRecord
from gaplab.engine.secrets import create_private_file, make_private_dir, write_masked_json
from gaplab.engine.timeline import PlannedPhase, plan
from gaplab.errors import LabError
from gaplab.load.generator import LoadGenerator
from gaplab.metrics.aggregator import Aggregator
from gaplab.metrics.snapshot import Snapshot
from gaplab.netfault import NetworkFaults
from gaplab.provider.journal import ProviderCall
from gaplab.provider.server import MockProvider
from gaplab.scenario.models import Scenario
from gaplab.scenario.target_models import TargetFile
from gaplab.target.process import TargetProcess, free_port
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
    load: LoadGenerator | None = None
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

    def snapshot(self) -> Snapshot:
        self.aggregator.now = max(self.aggregator.now, self.clock.now())
        return self.aggregator.snapshot()

    def publish_call(self, call: ProviderCall) -> None:
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
        if self.scenario.uses_network_faults or self.options.toxiproxy_url:
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
        load = LoadGenerator(
            target=target,
            names=names,
            base_url=base_url,
            load=self.scenario.load,
            seed=self.seed,
            clock=self.clock,
            publish=self.bus.publish,
            current_phase=lambda: self.phase_name,
            sla=self.sla,
            detector=self.detector,
            phase_rates=[(p.phase.duration, p.phase.arrival) for p in planned],
            on_slip=monitor.record_slip,
        )
        monitor.counts = load.counts
        self._parts.monitor, self._parts.load = monitor, load
        self.phase_name = planned[0].phase.name
        # The monitor watches from before the users start: starting them is load too.
        monitor.start()
        await prober.start()
        try:
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
        await self._apply(step)
        if self._parts.prober is not None:
            await self._parts.prober.phase_started(phase)
        if self._parts.load is not None:
            self._parts.load.set_users(
                phase.users if phase.users is not None else self.scenario.load.users
            )
        self.bus.publish(
            PhaseStarted(
                t=self.clock.now(),
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
                FaultChanged(t=self.clock.now(), phase=phase.name, faults=step.descriptions)
            )
        await asyncio.sleep(max(0.0, origin + step.end - self.clock.now()))
        if step.descriptions:
            self._publish_coverage(step)
            await self._clear()
            self.bus.publish(FaultChanged(t=self.clock.now(), phase=phase.name, faults=()))
        if self._parts.prober is not None:
            await self._parts.prober.phase_ended(phase)
        self.bus.publish(PhaseEnded(t=self.clock.now(), phase=phase.name, index=step.index))
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
        provider_counts = iter(provider.fault_counters() if provider is not None else [])
        network_counts = iter(network.coverage() if network is not None else [])
        for index, entry in enumerate(step.phase.faults):
            matched = None
            if entry.provider is not None:
                counts = next(provider_counts, None)
                hits = None if counts is None else counts["fired"]
                matched = None if counts is None else counts["matched"]
            else:
                hits = next(network_counts, None)
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
        provider = self._parts.provider
        if provider is not None and step.provider_faults:
            # The phase's length: a latency ramp moves across it; rate limits set by the
            # phase last as long as it does (`_clear` brings the profile's back).
            provider.set_faults(step.provider_faults, span=step.phase.duration)
        network = self._parts.network
        if network is not None and step.network_faults:
            await network.apply(step.network_faults)

    async def _clear(self) -> None:
        provider = self._parts.provider
        if provider is not None:
            provider.clear_faults()
        network = self._parts.network
        if network is not None:
            await network.clear()

    async def _teardown(self) -> None:
        """Stop users, target, proxy and provider, in that order; each step is bounded."""
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


def _new_run_id(runs_dir: Path, name: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_id = f"{stamp}-{name}"
    suffix = 1
    while (runs_dir / run_id).exists():
        suffix += 1
        run_id = f"{stamp}-{name}-{suffix}"
    return run_id
