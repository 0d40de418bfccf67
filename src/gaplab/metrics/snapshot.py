"""Immutable snapshots of a run, produced by the aggregator and pulled by front ends.

A front end never reads the event stream to draw; it asks for a snapshot on a fixed tick
(4-10 Hz) and renders it, so drawing cost does not grow with the request rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LatencySummary:
    count: int
    p50: float | None  # seconds
    p95: float | None
    p99: float | None
    max: float | None


@dataclass(frozen=True)
class PhaseStats:
    name: str
    index: int
    started: float | None  # run clock; None until the phase starts
    ended: float | None
    duration: float  # planned
    faults: tuple[str, ...]
    outage: bool
    outcomes: dict[str, int]  # ok / degraded / error / unsafe, AI requests started in phase
    latency: LatencySummary  # AI requests started in this phase
    non_ai_latency: LatencySummary
    non_ai_statuses: dict[int, int]
    provider_calls: int  # upstream calls that arrived during the phase
    provider_statuses: dict[int, int]
    dropped: int = 0  # open arrivals not started: max_in_flight was reached

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    @property
    def amplification(self) -> float | None:
        """Upstream calls per user request in this phase (retries make it > 1)."""
        return self.provider_calls / self.requests if self.requests else None


@dataclass(frozen=True)
class SecondBucket:
    """What happened in one second of the run (for rates and sparklines)."""

    second: int
    outcomes: dict[str, int]
    provider_calls: int
    p95: float | None  # AI requests that finished in this second


@dataclass(frozen=True)
class LabFigures:
    """The lab's own health (gaplab.engine.monitor), seconds: event-loop lag and, under
    open arrivals, schedule slip, over the last `window` seconds and over the run."""

    load_model: str  # "open" | "closed"
    window: float
    window_lag_p50: float | None
    window_lag_p99: float | None
    window_slip_p50: float | None
    window_slip_p99: float | None
    run_lag_p50: float | None
    run_lag_p99: float | None
    run_lag_max: float | None
    run_slip_p50: float | None
    run_slip_p99: float | None
    run_slip_max: float | None
    arrivals_planned: int
    arrivals_started: int
    arrivals_dropped: int
    arrivals_missed: int
    in_flight: int


@dataclass(frozen=True)
class Snapshot:
    t: float
    run_id: str
    scenario: str
    target: str
    status: str  # "starting" | "running" | "finishing" | "completed" | "interrupted" | "failed"
    phase: str | None
    phase_index: int | None
    phase_elapsed: float
    duration: float  # planned total
    active_faults: tuple[str, ...]
    totals: dict[str, int]  # outcome -> count over the whole run
    latency: LatencySummary  # whole run, AI requests
    provider_calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    requests_per_second: float  # over the last few complete seconds
    provider_calls_per_second: float
    phases: tuple[PhaseStats, ...]
    seconds: tuple[SecondBucket, ...]  # the last 120 seconds at most
    checks: dict[str, str] = field(default_factory=dict)  # check id -> verdict, once decided
    dropped: int = 0  # open arrivals not started (max_in_flight), whole run
    lab: LabFigures | None = None  # the latest lab health figures
