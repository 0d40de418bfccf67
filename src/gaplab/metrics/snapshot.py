"""Immutable snapshots of a run, produced by the aggregator and pulled by front ends.

A front end never reads the event stream to draw; it asks for a snapshot on a fixed tick
(4-10 Hz) and renders it, so drawing cost does not grow with the request rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gaplab.engine.events import LoadWorkerLost, LoadWorkers


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
    p50: float | None = None
    retries: int = 0  # provider calls the caller marked as a retry (x-stainless-retry-count)
    cost_usd: float = 0.0
    in_flight: int | None = None  # the most user requests seen in flight (None: not sampled)

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())


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
class RollingFigures:
    """The last `seconds` of the run (not the whole run): what is happening now."""

    seconds: float
    latency: LatencySummary  # AI requests that finished in the window
    requests: int
    provider_calls: int
    retries: int  # of those calls, the ones the caller marked as retries
    cost_usd: float
    error_reasons: dict[str, int]  # why users got errors in the window, most frequent first

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def calls_per_request(self) -> float | None:
        return self.provider_calls / self.requests if self.requests else None

    @property
    def spend_per_second(self) -> float:
        return self.cost_usd / self.seconds

    @property
    def cost_per_request(self) -> float | None:
        return self.cost_usd / self.requests if self.requests else None


@dataclass(frozen=True)
class InFlight:
    """Requests sent and not answered yet, sampled when the snapshot was taken: during a
    hang this is the signal (nothing finishes, so finished-request figures go quiet)."""

    users: int  # user requests in flight
    oldest_s: float | None  # age of the oldest one
    upstream: int  # provider calls received and not ended


@dataclass(frozen=True)
class UnsafeAnswer:
    t: float
    request_id: str
    reason: str
    excerpt: str


@dataclass(frozen=True)
class ManualSpan:
    """A fault applied by hand (the TUI's chaos keys), from `start` to `end` (None: on)."""

    name: str
    fault: str
    start: float
    end: float | None


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
    rolling: RollingFigures | None = None  # the last few seconds (ROLLING_SECONDS)
    in_flight: InFlight | None = None  # None when nobody sampled it (a rebuilt report)
    retries: int = 0  # provider calls marked as retries, whole run
    read_timeout: float | None = None  # the read timeout the caller's SDK announced (s)
    error_reasons: dict[str, int] = field(default_factory=dict)  # whole run
    unsafe_recent: tuple[UnsafeAnswer, ...] = ()  # the latest few, newest last
    manual: tuple[ManualSpan, ...] = ()
    # `--load locust` only: each worker's share and health (the latest LoadWorkers), and
    # the workers lost mid-run (None and empty with the built-in load).
    workers: LoadWorkers | None = None
    workers_lost: tuple[LoadWorkerLost, ...] = ()
