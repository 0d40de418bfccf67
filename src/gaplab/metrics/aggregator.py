"""The aggregator: a pure event subscriber that keeps running totals and hands out
immutable snapshots (counts by outcome, latency percentiles per phase, per-second windows,
upstream calls, tokens and cost).

It does no I/O and never blocks; `snapshot()` is cheap enough for a 10 Hz UI tick.
Besides the run-wide figures it keeps what is happening *now*: the last `ROLLING_SECONDS`
(latency percentiles, calls per request, retries, spend, error reasons), a per-second
series with no gaps (a second with no event is an empty bucket, so a stall shows as a
stall), the requests in flight when a front end samples them (`note_in_flight`), and the
faults applied by hand.
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
    LoadWorkerLost,
    LoadWorkers,
    ManualFault,
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunFinished,
    RunStarted,
    UserRequestFinished,
)
from gaplab.metrics.latency import LatencyRecorder
from gaplab.metrics.snapshot import (
    InFlight,
    LabFigures,
    LatencySummary,
    ManualSpan,
    PhaseStats,
    RollingFigures,
    SecondBucket,
    Snapshot,
    UnsafeAnswer,
)
from gaplab.metrics.window import SlidingWindow

WINDOW_SECONDS = 120
RATE_SECONDS = 3  # requests/s is averaged over the last complete seconds
ROLLING_SECONDS = 5.0  # "now" figures: latency percentiles, calls per request, spend
MAX_REASONS = 40  # distinct error reasons kept (the rest are counted as "other")
UNSAFE_KEPT = 5


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
    retries: int = 0
    cost_usd: float = 0.0
    in_flight: int | None = None
    errors: Counter[str] = field(default_factory=Counter)
    latency: LatencyRecorder = field(default_factory=LatencyRecorder)
    frozen: SecondBucket | None = None  # cleared by every update, like _PhaseState.frozen

    def freeze(self, second: int) -> SecondBucket:
        if self.frozen is None:
            summary = self.latency.summary() if self.latency.count else None
            self.frozen = SecondBucket(
                second=second,
                outcomes={o: self.outcomes.get(o, 0) for o in OUTCOMES},
                provider_calls=self.provider_calls,
                p95=summary.p95 if summary else None,
                p50=summary.p50 if summary else None,
                retries=self.retries,
                cost_usd=self.cost_usd,
                in_flight=self.in_flight,
            )
        return self.frozen


def error_reason(event: UserRequestFinished) -> str:
    """Why a user got an error, as short as the log would say it."""
    if event.detail:
        return event.detail
    return f"HTTP {event.status}" if event.status else "no answer"


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
        self._rolling_latency = SlidingWindow(ROLLING_SECONDS)
        self._retries = 0
        self._read_timeout: float | None = None
        self._reasons: Counter[str] = Counter()
        self._unsafe: deque[UnsafeAnswer] = deque(maxlen=UNSAFE_KEPT)
        self._in_flight: InFlight | None = None
        self._manual: dict[str, ManualSpan] = {}  # open spans by preset name
        self._manual_done: list[ManualSpan] = []
        self._workers: LoadWorkers | None = None
        self._workers_lost: list[LoadWorkerLost] = []

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
        elif isinstance(event, LoadWorkers):
            self._workers = event
        elif isinstance(event, LoadWorkerLost):
            self._workers_lost.append(event)
        elif isinstance(event, CheckEvaluated):
            self._checks[event.check_id] = event.verdict
        elif isinstance(event, ManualFault):
            self._on_manual(event)
        elif isinstance(event, RunFinished):
            self.status = event.status
            for span in self._manual.values():  # still on at the end: it ended with the run
                self._manual_done.append(ManualSpan(span.name, span.fault, span.start, event.t))
            self._manual.clear()

    def _on_manual(self, event: ManualFault) -> None:
        if event.action == "apply":
            self._manual[event.name] = ManualSpan(event.name, event.fault, event.t, None)
            return
        span = self._manual.pop(event.name, None)
        if span is not None:
            self._manual_done.append(ManualSpan(span.name, span.fault, span.start, event.t))

    def note_in_flight(self, t: float, users: int, oldest_s: float | None, upstream: int) -> None:
        """What is in flight now (the engine samples it when a snapshot is taken); the
        per-second series keeps the most seen in each second."""
        self.now = max(self.now, t)
        self._in_flight = InFlight(users, oldest_s, upstream)
        bucket = self._bucket(t)
        if bucket.in_flight is None or users > bucket.in_flight:
            bucket.in_flight = users
            bucket.frozen = None

    def _bucket(self, t: float) -> _Second:
        second = int(t)
        if self._seconds and self._seconds[-1][0] == second:
            return self._seconds[-1][1]
        if self._seconds and self._seconds[-1][0] > second:
            for number, bucket in reversed(self._seconds):
                if number == second:
                    return bucket
            return _Second()  # older than the window: counted in totals only
        if self._seconds:  # seconds with no event are empty buckets, not missing ones
            for gap in range(max(self._seconds[-1][0] + 1, second - WINDOW_SECONDS), second):
                self._seconds.append((gap, _Second()))
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
        self._rolling_latency.record(event.t, event.latency)
        if phase is not None:
            phase.outcomes[event.outcome] += 1
            phase.latency.record(event.latency)
        bucket = self._bucket(event.t)
        bucket.frozen = None
        bucket.outcomes[event.outcome] += 1
        bucket.latency.record(event.latency)
        if event.outcome == "error":
            reason = error_reason(event)
            if reason not in self._reasons and len(self._reasons) >= MAX_REASONS:
                reason = "other"
            self._reasons[reason] += 1
            bucket.errors[reason] += 1
        elif event.outcome == "unsafe":
            self._unsafe.append(
                UnsafeAnswer(event.t, event.request_id, event.detail, event.excerpt)
            )

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
        if call.retry_count:
            self._retries += 1
        if call.read_timeout is not None:
            self._read_timeout = call.read_timeout
        bucket = self._bucket(call.t_arrival)
        bucket.frozen = None
        bucket.provider_calls += 1
        bucket.cost_usd += call.cost_usd
        if call.retry_count:
            bucket.retries += 1

    def _rate(self, attribute: str) -> float:
        current = int(self.now)
        complete = [b for s, b in self._seconds if current - RATE_SECONDS <= s < current]
        if not complete:
            return 0.0
        if attribute == "requests":
            return sum(sum(b.outcomes.values()) for b in complete) / RATE_SECONDS
        return sum(b.provider_calls for b in complete) / RATE_SECONDS

    def _series(self) -> tuple[SecondBucket, ...]:
        """The per-second buckets up to now, empty seconds included."""
        if self._seconds:
            self._bucket(self.now)  # seconds since the last event are empty, not absent
        return tuple(bucket.freeze(second) for second, bucket in self._seconds)

    def _rolling(self) -> RollingFigures:
        oldest = self.now - ROLLING_SECONDS
        window = [b for s, b in self._seconds if s + 1 > oldest]
        reasons: Counter[str] = Counter()
        for bucket in window:
            reasons.update(bucket.errors)
        p50, p95, p99, top = self._rolling_latency.percentiles(self.now, 50, 95, 99, 100)
        return RollingFigures(
            seconds=ROLLING_SECONDS,
            latency=LatencySummary(len(self._rolling_latency), p50, p95, p99, top),
            requests=len(self._rolling_latency),
            provider_calls=sum(b.provider_calls for b in window),
            retries=sum(b.retries for b in window),
            cost_usd=sum(b.cost_usd for b in window),
            error_reasons=dict(reasons.most_common()),
        )

    def snapshot(self) -> Snapshot:
        current = self._current
        seconds = self._series()
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
            seconds=seconds,
            checks=dict(self._checks),
            dropped=self._dropped,
            lab=self._lab,
            rolling=self._rolling(),
            in_flight=self._in_flight,
            retries=self._retries,
            read_timeout=self._read_timeout,
            error_reasons=dict(self._reasons.most_common()),
            unsafe_recent=tuple(self._unsafe),
            manual=(*self._manual_done, *self._manual.values()),
            workers=self._workers,
            workers_lost=tuple(self._workers_lost),
        )


def _lab_figures(event: LabHealth) -> LabFigures:
    names = LabFigures.__dataclass_fields__
    return LabFigures(**{k: v for k, v in event.__dict__.items() if k in names})
