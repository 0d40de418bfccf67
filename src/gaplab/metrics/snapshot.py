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
