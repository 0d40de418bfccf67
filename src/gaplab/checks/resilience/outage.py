"""The sustained outage the breaker and retry-storm checks watch, and the baseline upstream
rate they compare it with."""

from __future__ import annotations

from dataclasses import dataclass

from gaplab.checks.base import CheckContext
from gaplab.checks.stats import rate
from gaplab.engine.record import PhaseWindow


def sustained_outage_windows(ctx: CheckContext) -> list[PhaseWindow]:
    """Phases where every provider call fails: a 5xx/429 always, or a network fault that
    breaks every connection (down, reset, black hole)."""
    windows = []
    for phase in ctx.scenario.phases:
        for fault in phase.faults:
            p, n = fault.provider, fault.network
            steady = (
                p is not None
                and p.error is not None
                and p.error >= 429
                and p.probability == 1
                and p.first is None
                and p.every is None
                and p.match is None
            )
            if steady or (n is not None and n.is_outage and n.toxicity == 1):
                window = ctx.record.phase(phase.name)
                if window is not None and window.end is not None:
                    windows.append(window)
                break
    return windows


@dataclass(frozen=True)
class SustainedOutage:
    window: PhaseWindow  # the first phase where every provider call fails
    end: float
    baseline_rate: float  # upstream calls per second in the baseline phase


def sustained_outage(ctx: CheckContext) -> SustainedOutage | None:
    """The first sustained outage and the baseline upstream rate to compare it with."""
    windows = sustained_outage_windows(ctx)
    baseline = ctx.record.baseline()
    if not windows or baseline is None or baseline.end is None or windows[0].end is None:
        return None
    calls = len(ctx.record.calls_between(baseline.start, baseline.end))
    return SustainedOutage(windows[0], windows[0].end, rate(calls, baseline.end - baseline.start))
