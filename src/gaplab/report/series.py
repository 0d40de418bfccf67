"""What the human reports draw, computed once from the run record into the report document.

- `run_series`: per-second columns over the run: user outcomes by kind and latency
  percentiles of the AI requests that *finished* in each second, upstream calls that
  *arrived* in it, and the phase bands with their fault descriptions;
- `run_cost`: what the run cost, priced by the lab from the provider profile's price table
  (`gaplab.metrics.cost`): per user request (the provider calls each one caused, joined by
  `RunRecord.join()`) as mean, p50, p95, max and a histogram, per phase, the tokens, the
  spend rate with its projections (10× the volume; a month at the declared daily
  requests), the budget declared, and the prompt tokens per conversation turn; None when no
  call was billed.

Seconds are whole seconds on the run clock, the clock of every `*_s` time in the report.
A second's latency percentiles are exact (nearest rank over its requests' latencies); the
phase and run figures come from HdrHistogram (within 1 %), which would cost ~30 KB and
~1 ms per second of run here, 100 MB and seconds for an hour.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

from gaplab.engine.events import OUTCOMES
from gaplab.engine.record import RunRecord
from gaplab.metrics.cost import (
    PriceTable,
    billed,
    call_cost,
    per_turn,
    projection,
    request_costs,
    stats,
    timeline_seconds,
)
from gaplab.metrics.prices import Budget

COST_BINS = 20  # bars of the cost-per-request histogram


def _bands(record: RunRecord) -> list[dict[str, Any]]:
    return [
        {
            "phase": w.name,
            "started_s": w.start,
            "ended_s": w.end,
            "faults": list(w.faults),
            "outage": w.outage,
        }
        for w in record.phases
    ]


def run_series(record: RunRecord) -> dict[str, Any]:
    """Columns indexed by second: `t_s[i]` is the start of second i on the run clock."""
    first = min((w.start for w in record.phases), default=0.0)
    outcomes: dict[int, Counter[str]] = defaultdict(Counter)
    latency: dict[int, list[float]] = defaultdict(list)
    calls: Counter[int] = Counter()
    for request in record.requests:
        second = int(request.t)
        outcomes[second][request.outcome] += 1
        latency[second].append(request.latency)
    for call in record.calls:
        calls[int(call.t_arrival)] += 1
    seen = [*outcomes, *calls]
    # Everything counted is in a column (a call before the timeline too), so the columns
    # add up to the report's totals.
    start = min([int(first), *seen]) if record.phases else min(seen, default=0)
    end = max([*seen, math.ceil(record.end) - 1, start])
    seconds = list(range(start, end + 1))
    ordered = {s: sorted(values) for s, values in latency.items()}
    return {
        "bucket_s": 1,
        "t_s": seconds,
        "outcomes": {
            kind: [outcomes[s][kind] if s in outcomes else 0 for s in seconds] for kind in OUTCOMES
        },
        "latency": {
            name: [_rank(ordered[s], percent) if s in ordered else None for s in seconds]
            for name, percent in (("p50_s", 50), ("p95_s", 95), ("p99_s", 99))
        },
        "upstream_calls": [calls.get(s, 0) for s in seconds],
        "bands": _bands(record),
    }


def _rank(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile of sorted values (as gaplab.checks.stats.percentile)."""
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


def _histogram(values: list[float]) -> dict[str, Any]:
    top = max(values, default=0.0)
    if top <= 0:
        return {"edges_usd": [0.0, 0.0], "counts": [len(values)]}
    width = top / COST_BINS
    counts = [0] * COST_BINS
    for value in values:
        counts[min(int(value / width), COST_BINS - 1)] += 1
    return {"edges_usd": [i * width for i in range(COST_BINS + 1)], "counts": counts}


def run_cost(
    record: RunRecord, prices: PriceTable | None = None, budget: Budget | None = None
) -> dict[str, Any] | None:
    """Cost per AI request, overall and per phase (the phase a request started in). A
    request that caused no call (a fallback served from cache, say) costs 0 and counts.
    Without `prices`, the dollars the provider journaled."""
    calls = [(c, call_cost(c, prices)) for c in record.calls]
    if not any(usd for _, usd in calls):
        return None
    join = record.join()
    costs = request_costs(record, prices)
    values = [c.usd for c in costs]
    by_phase: dict[str, list[float]] = defaultdict(list)
    for cost in costs:
        by_phase[cost.phase].append(cost.usd)
    total = sum(usd for _, usd in calls)
    budget = budget or Budget()
    unjoined = {c.call_id for c in join.unjoined}
    return {
        "priced_by": f"{prices.name} profile" if prices is not None else "provider journal",
        "total_usd": total,
        "journal_usd": sum(c.cost_usd for c in record.calls),
        "unjoined_calls": len(join.unjoined),
        "unjoined_usd": sum(usd for c, usd in calls if c.call_id in unjoined),
        "tokens": {
            "in": sum(c.tokens_in for c, usd in calls if usd),
            "cached": sum(c.tokens_cached for c, usd in calls if usd),
            "out": sum(c.tokens_out for c, usd in calls if usd),
            "billed_calls": sum(1 for _, usd in calls if usd),
            "refused_calls": sum(1 for c, _ in calls if not billed(c)),
            "refused_in": sum(c.tokens_in for c, _ in calls if not billed(c)),
        },
        "per_request": stats(values),
        "phases": {w.name: stats(by_phase.get(w.name, [])) for w in record.phases},
        "histogram": _histogram(values),
        "spend": projection(
            total, len(costs), timeline_seconds(record), daily_requests=budget.daily_requests
        ),
        "budget": budget.to_dict(),
        "per_turn": per_turn(costs),
    }
