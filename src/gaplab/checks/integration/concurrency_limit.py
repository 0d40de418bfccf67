"""integration.concurrency_limit: under a burst of users the upstream calls in flight stay
bounded (a bulkhead), and the target sheds the rest cleanly instead of queueing them.

In flight is computed from the provider journal: each call is in flight from its arrival
to its end, and the peak is the most that overlap inside the burst phase. The demand it is
compared with is what the burst asked for: the phase's users (closed load), or its arrival
rate times the median call duration (open load: Little's law, the calls that would be in
flight if every arrival got one).
"""

from __future__ import annotations

import statistics
from typing import Any

from pydantic import Field

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckOptions,
    CheckResult,
    Undecided,
    Verdict,
    closest,
    examples,
    margin_at_most,
)
from gaplab.provider.journal import ProviderCall
from gaplab.scenario.models import Phase


class ConcurrencyOptions(CheckOptions):
    bound_share: float = Field(
        default=0.5, gt=0, le=1, description="peak in flight at most this share of the demand"
    )
    max_in_flight: int | None = Field(default=None, ge=1, description="or at most this many")
    max_bad: float = Field(
        default=0.01, ge=0, le=1, description="share of burst requests late or failed"
    )


def peak_in_flight(calls: list[ProviderCall], start: float, end: float) -> int:
    """The most calls overlapping at any moment of [start, end)."""
    edges: list[tuple[float, int]] = []
    for call in calls:
        begin, finish = max(call.t_arrival, start), min(call.t_end, end)
        if begin < finish or (begin == finish and start <= begin < end):
            edges += [(begin, 1), (finish, -1)]
    edges.sort(key=lambda edge: (edge[0], edge[1]))  # an end before a start at one instant
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def _burst(ctx: CheckContext) -> tuple[Phase, float]:
    """The phase with the most load, and its load, if it is above the baseline's."""
    load = ctx.scenario.load
    if load.open:
        base_rate = load.arrival or 0.0
        rated = [
            (p, p.arrival if p.arrival is not None else base_rate) for p in ctx.scenario.phases
        ]
    else:
        rated = [
            (p, float(p.users if p.users is not None else load.users)) for p in ctx.scenario.phases
        ]
    phase, peak = max(rated, key=lambda item: item[1])
    first = rated[0][1]
    if peak <= first:
        raise Undecided(
            "needs a burst: a phase with more `users` (or a higher `arrival`) than the first"
        )
    return phase, peak


class ConcurrencyLimitCheck(Check):
    id = "integration.concurrency_limit"
    title = "Under a burst, upstream calls in flight stay bounded and the rest is shed cleanly"
    area = "integration"
    why = (
        "A burst of users (a newsletter, a retry storm upstream of you) turns into a burst of "
        "model calls: the provider rate-limits you, your bill spikes, and every request "
        "queues behind the others until all of them time out. A bulkhead caps the calls in "
        "flight and answers the overflow at once (a fallback, a 429 or 503 the client "
        "understands), so the requests it does serve stay fast."
    )
    Options = ConcurrencyOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        phase, load = _burst(ctx)
        window = ctx.ended(phase)
        assert window.end is not None
        calls = [c for c in ctx.record.calls if c.t_arrival < window.end and c.t_end > window.start]
        requests = ctx.record.requests_in(window)
        if not requests or not calls:
            raise Undecided(f"no user request or provider call in phase {phase.name}")
        if ctx.scenario.load.open:
            durations = [c.t_end - c.t_arrival for c in calls if 200 <= c.status < 300]
            demand = load * (statistics.median(durations) if durations else 0.0)
        else:
            demand = load
        bound = options.max_in_flight or options.bound_share * demand
        peak = peak_in_flight(calls, window.start, window.end)
        late = [r for r in requests if r.latency > ctx.sla]
        failed = [r for r in requests if r.outcome in ("error", "unsafe")]
        bad = {r.request_id: r for r in [*late, *failed]}
        bad_share = len(bad) / len(requests)
        shed = sum(1 for r in requests if r.outcome == "degraded" or r.status in (429, 503))
        numbers = {
            "peak_in_flight": peak,
            "bound": round(bound, 1),
            "demand": round(demand, 1),
            "requests": len(requests),
            "shed": shed,
            "late": len(late),
            "failed": len(failed),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phase.name,
            "margin": closest(
                margin_at_most(peak, bound), margin_at_most(bad_share, options.max_bad)
            ),
            "limit": f"≤ {bound:.0f} calls in flight, ≤ {options.max_bad:.0%} of requests "
            f"late (> {ctx.sla:g}s) or failed",
            "examples": examples(bad),
        }
        problems = []
        if peak > bound:
            problems.append(
                f"{peak} upstream calls were in flight at once (demand {demand:.0f}, "
                f"bounded means ≤ {bound:.0f}): no bulkhead"
            )
        if bad_share > options.max_bad:
            problems.append(
                f"{len(late)} requests answered after the SLA and {len(failed)} failed "
                f"of {len(requests)}: the overflow queued or broke instead of being shed"
            )
        if problems:
            return self.result(Verdict.FAIL, "; ".join(problems), **evidence)
        return self.result(
            Verdict.PASS,
            f"at most {peak} calls in flight for a demand of {demand:.0f}; {shed} of "
            f"{len(requests)} requests shed, none late",
            **evidence,
        )
