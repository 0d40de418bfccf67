"""What the retry, output, stream and model checks share: the calls a phase's faults hit,
the user requests those calls belong to (one join, gaplab.engine.join), and the short trace
of a request's calls that goes into the evidence.

Per request, not per window: "the provider saw 3 calls for user-0003-000012: 503 at 10.20 s,
503 at 10.71 s, 200 at 11.90 s" is what a reader can check in the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gaplab.checks.base import CheckContext, Undecided
from gaplab.engine.events import UserRequestFinished
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.scenario.models import Phase


@dataclass(frozen=True)
class Joined:
    """A user request and every provider call it caused, in arrival order."""

    request: UserRequestFinished
    calls: tuple[ProviderCall, ...]

    @property
    def last(self) -> ProviderCall:
        return self.calls[-1]


def faulty_phases(
    ctx: CheckContext, wanted: Callable[[ProviderFault], bool], needs: str
) -> list[tuple[Phase, list[ProviderFault]]]:
    """Phases with a provider fault `wanted` picks (with those faults); `Undecided` with
    `needs` when there is none."""
    found = []
    for phase in ctx.scenario.phases:
        faults = [f.provider for f in phase.faults if f.provider is not None and wanted(f.provider)]
        if faults:
            found.append((phase, faults))
    if not found:
        raise Undecided(needs)
    return found


def phase_calls(ctx: CheckContext, phase: Phase) -> list[ProviderCall]:
    """The calls of a phase that ran to its end and whose faults hit something."""
    window = ctx.experiment(phase)
    assert window.end is not None
    return ctx.record.calls_between(window.start, window.end)


def hit_by(call: ProviderCall, faults: Iterable[ProviderFault]) -> bool:
    """True when one of `faults` was applied to the call (the journal names what fired)."""
    applied = call.fault or ""
    return any(fault.describe() in applied for fault in faults)


def joined(ctx: CheckContext, calls: Iterable[ProviderCall]) -> list[Joined]:
    """The requests behind `calls`, each with all of its calls."""
    join = ctx.record.join()
    return [
        Joined(request, tuple(join.calls_for(request.request_id)))
        for request in join.requests_of(calls)
    ]


@dataclass(frozen=True)
class FaultHits:
    """The calls the faults `wanted` picks hit, phase by phase, and their user requests."""

    phases: list[tuple[Phase, list[ProviderFault]]]
    calls: list[ProviderCall]
    items: list[Joined]

    @property
    def phase_names(self) -> str:
        return ", ".join(p.name for p, _ in self.phases)


def requests_hit(
    ctx: CheckContext, wanted: Callable[[ProviderFault], bool], needs: str
) -> FaultHits:
    """The user requests behind the calls that the faults `wanted` picks hit; `Undecided`
    with `needs` when no phase has such a fault, or when no request could be joined."""
    phases = faulty_phases(ctx, wanted, needs)
    hit = [c for p, faults in phases for c in phase_calls(ctx, p) if hit_by(c, faults)]
    found = FaultHits(phases, hit, joined(ctx, hit))
    if not found.items:
        raise Undecided(f"no user request could be joined to a failed call in {found.phase_names}")
    return found


def trace(calls: Iterable[ProviderCall]) -> str:
    """`503 at 10.20s (retry 0), 200 at 11.90s (retry 1)`."""
    parts = []
    for call in calls:
        retry = "" if call.retry_count is None else f" (retry {call.retry_count})"
        parts.append(f"{call.status or 'no answer'} at {call.t_arrival:.2f}s{retry}")
    return ", ".join(parts)


def request_evidence(item: Joined, **extra: Any) -> dict[str, Any]:
    request = item.request
    return {
        "request": request.request_id,
        "outcome": request.outcome,
        "status": request.status,
        "detail": request.detail,
        "calls": len(item.calls),
        "trace": trace(item.calls),
        **extra,
    }


def user_saw(request: UserRequestFinished) -> str:
    """What the user got, in a few words."""
    if request.outcome == "ok":
        return "an ok answer"
    if request.stream_end == "error_event":
        return "the target's error event"
    what = f"HTTP {request.status} {request.outcome}" if request.status else request.outcome
    return f"{what} ({request.detail})" if request.detail else what
