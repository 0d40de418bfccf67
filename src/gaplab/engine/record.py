"""The run record: everything the checks need to decide, collected from the event stream.

Checks are pure functions of (scenario, record), so they can be fed synthetic records in
unit tests and rebuilt from `events.jsonl` by `lab report`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from gaplab.engine.events import (
    Event,
    FaultCoverage,
    HealthProbed,
    ManualFault,
    MetricsScraped,
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunFinished,
    RunStarted,
    TargetActed,
    UserRequestFinished,
)
from gaplab.engine.join import Join
from gaplab.provider.journal import ProviderCall


@dataclass
class PhaseWindow:
    name: str
    index: int
    start: float
    end: float | None
    faults: tuple[str, ...]
    outage: bool
    slow: float

    @property
    def faulty(self) -> bool:
        return bool(self.faults)

    def contains(self, t: float) -> bool:
        return self.start <= t < (self.end if self.end is not None else float("inf"))


@dataclass
class RunRecord:
    started: RunStarted | None = None
    finished: RunFinished | None = None
    phases: list[PhaseWindow] = field(default_factory=list)
    requests: list[UserRequestFinished] = field(default_factory=list)
    probes: list[UserRequestFinished] = field(default_factory=list)
    calls: list[ProviderCall] = field(default_factory=list)
    coverage: list[FaultCoverage] = field(default_factory=list)
    # Faults applied by hand (gaplab.engine.manual): kept apart from the planned ones, so
    # a manual fault that hit nothing never reads as "the experiment did not happen".
    manual: list[ManualFault] = field(default_factory=list)
    manual_coverage: list[FaultCoverage] = field(default_factory=list)
    # What the prober saw of the target's declared health, metrics and actions.
    health: list[HealthProbed] = field(default_factory=list)
    scrapes: list[MetricsScraped] = field(default_factory=list)
    actions: list[TargetActed] = field(default_factory=list)
    _join: tuple[tuple[int, int], Join] | None = field(default=None, repr=False)

    def __call__(self, event: Event) -> None:
        if isinstance(event, UserRequestFinished):
            (self.requests if event.endpoint == "ai" else self.probes).append(event)
        elif isinstance(event, ProviderCallRecorded):
            self.calls.append(event.call)
        elif isinstance(event, PhaseStarted):
            self.phases.append(
                PhaseWindow(
                    event.phase, event.index, event.t, None, event.faults, event.outage, event.slow
                )
            )
        elif isinstance(event, PhaseEnded):
            for window in self.phases:
                if window.name == event.phase and window.end is None:
                    window.end = event.t
        elif isinstance(event, FaultCoverage):
            (self.manual_coverage if event.manual else self.coverage).append(event)
        elif isinstance(event, ManualFault):
            self.manual.append(event)
        elif isinstance(event, RunStarted):
            self.started = event
        elif isinstance(event, HealthProbed):
            self.health.append(event)
        elif isinstance(event, MetricsScraped):
            self.scrapes.append(event)
        elif isinstance(event, TargetActed):
            self.actions.append(event)
        elif isinstance(event, RunFinished):
            self.finished = event

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> RunRecord:
        record = cls()
        for event in events:
            record(event)
        return record

    @property
    def end(self) -> float:
        if self.finished is not None:
            return self.finished.t
        times = [p.end or p.start for p in self.phases]
        return max(times, default=0.0)

    def join(self) -> Join:
        """Calls joined to requests (gaplab.engine.join), rebuilt only when new ones came."""
        key = (len(self.requests), len(self.calls))
        if self._join is None or self._join[0] != key:
            self._join = (key, Join(self.requests, self.calls))
        return self._join[1]

    def coverage_of(self, phase: str) -> list[FaultCoverage]:
        return [c for c in self.coverage if c.phase == phase]

    def phase(self, name: str) -> PhaseWindow | None:
        return next((p for p in self.phases if p.name == name), None)

    def requests_in(self, window: PhaseWindow, *, after: float = 0.0) -> list[UserRequestFinished]:
        """AI requests that started inside the window (optionally `after` s past its start)."""
        start = window.start + after
        end = window.end if window.end is not None else float("inf")
        return [r for r in self.requests if start <= r.started < end]

    def probes_in(self, window: PhaseWindow) -> list[UserRequestFinished]:
        end = window.end if window.end is not None else float("inf")
        return [r for r in self.probes if window.start <= r.started < end]

    def calls_between(self, start: float, end: float) -> list[ProviderCall]:
        return [c for c in self.calls if start <= c.t_arrival < end]

    def fault_windows(self) -> Iterator[PhaseWindow]:
        return (p for p in self.phases if p.faulty)

    def baseline(self) -> PhaseWindow | None:
        """The last fault-free phase before the first faulty one."""
        baseline = None
        for window in self.phases:
            if window.faulty:
                break
            baseline = window
        return baseline

    def after(self, window: PhaseWindow) -> PhaseWindow | None:
        """The phase that follows `window`, if it is fault-free (a recovery phase)."""
        later = [p for p in self.phases if p.index == window.index + 1]
        return later[0] if later and not later[0].faulty else None
