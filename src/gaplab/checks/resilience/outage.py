"""The sustained outage the breaker and retry-storm checks watch, the baseline upstream rate
they compare it with, and the calls a scoped fault applies to.

A sustained outage is a phase with a fault that fails every call inside its scope: an error
≥ 429 with no `first`, `every` or `probability` below 1 (a `match` on a model, user or
dialect is allowed: the outage is then judged on the calls it matched), or a network fault
that breaks every connection (down, reset, black hole). Its `after` delays its start.
"""

from __future__ import annotations

from dataclasses import dataclass

from gaplab.checks.base import CheckContext, Undecided
from gaplab.checks.stats import rate
from gaplab.engine.events import UserRequestFinished
from gaplab.engine.record import PhaseWindow
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.schedule import facts_of, matches
from gaplab.scenario.models import FaultEntry, Phase

NEEDS = "needs a baseline phase and a phase where every provider call fails (e.g. error: 503)"


def steady_failure(entry: FaultEntry) -> bool:
    """True when the fault fails every call in its scope, for the whole phase."""
    p, n = entry.provider, entry.network
    if p is not None:
        return (
            p.error is not None
            and p.error >= 429
            and p.probability == 1
            and p.first is None
            and p.every is None
        )
    return n is not None and n.is_outage and n.toxicity == 1


@dataclass(frozen=True)
class SustainedOutage:
    phase: Phase
    window: PhaseWindow  # the first phase where every (matching) provider call fails
    baseline: PhaseWindow
    fault: FaultEntry
    baseline_rate: float  # in-scope upstream calls per second in the baseline phase

    @property
    def start(self) -> float:
        after = self.fault.provider.after if self.fault.provider is not None else None
        return self.window.start + (after or 0.0)

    @property
    def end(self) -> float:
        assert self.window.end is not None
        return self.window.end

    @property
    def scope(self) -> ProviderFault | None:
        """The provider fault whose `match` limits the outage, if it is scoped."""
        fault = self.fault.provider
        return fault if fault is not None and fault.match is not None else None

    def in_scope(self, calls: list[ProviderCall]) -> list[ProviderCall]:
        scope = self.scope
        if scope is None:
            return calls
        return [c for c in calls if matches(scope, facts_of(c))]

    def calls(self, ctx: CheckContext, start: float, end: float) -> list[ProviderCall]:
        return self.in_scope(ctx.record.calls_between(start, end))


def sustained_outage(ctx: CheckContext) -> SustainedOutage:
    """The first sustained outage and its baseline; `Undecided` with the reason if there is
    none, or if either phase did not run to its end or the fault hit nothing."""
    found = next(
        (
            (phase, entry)
            for phase in ctx.scenario.phases
            for entry in phase.faults
            if steady_failure(entry)
        ),
        None,
    )
    base_phase = ctx.scenario.baseline()
    if found is None or base_phase is None:
        raise Undecided(NEEDS)
    phase, entry = found
    baseline = ctx.ended(base_phase)
    window = ctx.experiment(phase)
    assert baseline.end is not None
    outage = SustainedOutage(phase, window, baseline, entry, 0.0)
    base_calls = outage.calls(ctx, baseline.start, baseline.end)
    if not base_calls:
        raise Undecided(f"no upstream call in the baseline phase {baseline.name}")
    base_rate = rate(len(base_calls), baseline.end - baseline.start)
    return SustainedOutage(phase, window, baseline, entry, base_rate)


def affected_requests(
    ctx: CheckContext, phase: Phase, window: PhaseWindow
) -> list[UserRequestFinished]:
    """The AI requests a phase's faults could reach: every request started in it when its
    faults apply to every call, else (scoped faults) the requests joined to a call a fault
    hit. A fault's `after` moves the start of the window. A network fault (a toxic) also
    acts on the connections already open, so the requests still in flight when it came
    count too: with a 12 s latency every user's request sent just before the edge waits
    out the whole phase, and the phase would seem to have met no request at all."""
    scoped = any(e.provider is not None and e.provider.scoped for e in phase.faults)
    if not scoped:
        started = ctx.record.requests_in(window)
        if not any(e.network is not None for e in phase.faults):
            return started
        caught = [r for r in ctx.record.requests if r.started < window.start < r.t]
        return [*caught, *started]
    end = window.end if window.end is not None else ctx.record.end
    hit = [c for c in ctx.record.calls_between(window.start, end) if c.fault]
    return ctx.record.join().requests_of(hit)
