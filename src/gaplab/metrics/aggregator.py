"""The aggregator: a pure event subscriber that keeps running totals and hands out
immutable snapshots (counts by outcome, latency percentiles per phase, per-second windows,
upstream calls, tokens and cost).

It does no I/O and never blocks; `snapshot()` is cheap enough for a 10 Hz UI tick.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from gaplab.engine.events import (
    OUTCOMES,
    ArrivalsDropped,
    CheckEvaluated,
    Event,
    FaultChanged,
    LabHealth,
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunFinished,
    RunStarted,
    UserRequestFinished,
)
from gaplab.metrics.latency import LatencyRecorder
from gaplab.metrics.snapshot import LabFigures, PhaseStats, SecondBucket, Snapshot

WINDOW_SECONDS = 120
RATE_SECONDS = 3  # requests/s is averaged over the last complete seconds


@dataclass
class _PhaseState:
    name: str
    index: int
    duration: float
    started: float | None = None
    ended: float | None = None
    faults: tuple[str, ...] = ()
    outage: bool = False
    outcomes: Counter[str] = field(default_factory=Counter)
    latency: LatencyRecorder = field(default_factory=LatencyRecorder)
    non_ai_latency: LatencyRecorder = field(default_factory=LatencyRecorder)
    non_ai_statuses: Counter[int] = field(default_factory=Counter)
    provider_calls: int = 0
    provider_statuses: Counter[int] = field(default_factory=Counter)
    dropped: int = 0
    frozen: PhaseStats | None = None  # cleared by every update; percentiles cost a histogram walk

    def freeze(self) -> PhaseStats:
        if self.frozen is None:
            self.frozen = self._freeze()
        return self.frozen

    def _freeze(self) -> PhaseStats:
        return PhaseStats(
            name=self.name,
            index=self.index,
            started=self.started,
            ended=self.ended,
            duration=self.duration,
            faults=self.faults,
            outage=self.outage,
            outcomes={o: self.outcomes.get(o, 0) for o in OUTCOMES},
            latency=self.latency.summary(),
            non_ai_latency=self.non_ai_latency.summary(),
            non_ai_statuses=dict(self.non_ai_statuses),
            provider_calls=self.provider_calls,
            provider_statuses=dict(self.provider_statuses),
            dropped=self.dropped,
        )


@dataclass
class _Second:
    outcomes: Counter[str] = field(default_factory=Counter)
    provider_calls: int = 0
    latency: LatencyRecorder = field(default_factory=LatencyRecorder)
    frozen: SecondBucket | None = None  # cleared by every update, like _PhaseState.frozen

    def freeze(self, second: int) -> SecondBucket:
        if self.frozen is None:
            self.frozen = SecondBucket(
                second=second,
                outcomes={o: self.outcomes.get(o, 0) for o in OUTCOMES},
                provider_calls=self.provider_calls,
                p95=self.latency.percentile(95),
            )
        return self.frozen


class Aggregator:
    def __init__(self) -> None:
        self.run_id = ""
        self.scenario = ""
        self.target = ""
        self.status = "starting"
        self.now = 0.0
        self._phases: dict[str, _PhaseState] = {}
        self._phase_at_time: list[tuple[float, str]] = []  # (start, name) in order
        self._current: _PhaseState | None = None
        self._active_faults: tuple[str, ...] = ()
        self._totals: Counter[str] = Counter()
        self._latency = LatencyRecorder()
        self._provider_calls = 0
        self._tokens_in = 0
        self._tokens_out = 0
        self._cost = 0.0
        self._seconds: deque[tuple[int, _Second]] = deque()
        self._checks: dict[str, str] = {}
        self._dropped = 0
        self._lab: LabFigures | None = None

    def __call__(self, event: Event) -> None:
        self.now = max(self.now, event.t)
        if isinstance(event, UserRequestFinished):
            self._on_request(event)
        elif isinstance(event, ProviderCallRecorded):
            self._on_provider_call(event)
        elif isinstance(event, PhaseStarted):
            state = self._phases.setdefault(
                event.phase, _PhaseState(event.phase, event.index, event.duration)
            )
            state.started, state.faults, state.outage = event.t, event.faults, event.outage
            state.frozen = None
            self._current = state
            self._phase_at_time.append((event.t, event.phase))
        elif isinstance(event, PhaseEnded):
            if event.phase in self._phases:
                self._phases[event.phase].ended = event.t
                self._phases[event.phase].frozen = None
        elif isinstance(event, FaultChanged):
            self._active_faults = event.faults
        elif isinstance(event, RunStarted):
            self.run_id, self.scenario, self.target = event.run_id, event.scenario, event.target
            self.status = "running"
            for index, (name, duration) in enumerate(event.phases):
                self._phases[name] = _PhaseState(name, index, duration)
        elif isinstance(event, ArrivalsDropped):
            self._dropped += event.count
            dropped_in = self._phases.get(event.phase)
            if dropped_in is not None:
                dropped_in.dropped += event.count
                dropped_in.frozen = None
        elif isinstance(event, LabHealth):
            self._lab = _lab_figures(event)
        elif isinstance(event, CheckEvaluated):
            self._checks[event.check_id] = event.verdict
        elif isinstance(event, RunFinished):
            self.status = event.status

    def _bucket(self, t: float) -> _Second:
        second = int(t)
        if self._seconds and self._seconds[-1][0] == second:
            return self._seconds[-1][1]
        if self._seconds and self._seconds[-1][0] > second:
            for number, bucket in reversed(self._seconds):
                if number == second:
                    return bucket
            return _Second()  # older than the window: counted in totals only
        bucket = _Second()
        self._seconds.append((second, bucket))
        while len(self._seconds) > WINDOW_SECONDS:
            self._seconds.popleft()
        return bucket

    def _phase_for(self, t: float) -> _PhaseState | None:
        name = None
        for start, phase in self._phase_at_time:
            if start <= t:
                name = phase
        return self._phases.get(name) if name else None

    def _on_request(self, event: UserRequestFinished) -> None:
        phase = self._phases.get(event.phase)
        if phase is not None:
            phase.frozen = None
        if event.endpoint != "ai":
            if phase is not None:
                phase.non_ai_latency.record(event.latency)
                phase.non_ai_statuses[event.status] += 1
            return
        self._totals[event.outcome] += 1
        self._latency.record(event.latency)
        if phase is not None:
            phase.outcomes[event.outcome] += 1
            phase.latency.record(event.latency)
        bucket = self._bucket(event.t)
        bucket.frozen = None
        bucket.outcomes[event.outcome] += 1
        bucket.latency.record(event.latency)

    def _on_provider_call(self, event: ProviderCallRecorded) -> None:
        call = event.call
        self._provider_calls += 1
        self._tokens_in += call.tokens_in
        self._tokens_out += call.tokens_out
        self._cost += call.cost_usd
        phase = self._phase_for(call.t_arrival)
        if phase is not None:
            phase.frozen = None
            phase.provider_calls += 1
            phase.provider_statuses[call.status] += 1
        bucket = self._bucket(call.t_arrival)
        bucket.frozen = None
        bucket.provider_calls += 1

    def _rate(self, attribute: str) -> float:
        current = int(self.now)
        complete = [b for s, b in self._seconds if current - RATE_SECONDS <= s < current]
        if not complete:
            return 0.0
        if attribute == "requests":
            return sum(sum(b.outcomes.values()) for b in complete) / RATE_SECONDS
        return sum(b.provider_calls for b in complete) / RATE_SECONDS

    def snapshot(self) -> Snapshot:
        current = self._current
        return Snapshot(
            t=self.now,
            run_id=self.run_id,
            scenario=self.scenario,
            target=self.target,
            status=self.status,
            phase=current.name if current else None,
            phase_index=current.index if current else None,
            phase_elapsed=(self.now - current.started) if current and current.started else 0.0,
            duration=sum(p.duration for p in self._phases.values()),
            active_faults=self._active_faults,
            totals={o: self._totals.get(o, 0) for o in OUTCOMES},
            latency=self._latency.summary(),
            provider_calls=self._provider_calls,
            tokens_in=self._tokens_in,
            tokens_out=self._tokens_out,
            cost_usd=self._cost,
            requests_per_second=self._rate("requests"),
            provider_calls_per_second=self._rate("provider"),
            phases=tuple(
                sorted((p.freeze() for p in self._phases.values()), key=lambda p: p.index)
            ),
            seconds=tuple(bucket.freeze(second) for second, bucket in self._seconds),
            checks=dict(self._checks),
            dropped=self._dropped,
            lab=self._lab,
        )


def _lab_figures(event: LabHealth) -> LabFigures:
    names = LabFigures.__dataclass_fields__
    return LabFigures(**{k: v for k, v in event.__dict__.items() if k in names})
