"""What the human reports draw, computed once from the run record into the report document.

- `run_series`: per-second columns over the run: user outcomes by kind and latency
  percentiles of the AI requests that *finished* in each second, upstream calls that
  *arrived* in it, and the phase bands with their fault descriptions;
- `run_cost`: cost per user request (the cost of the provider calls each one caused,
  joined by `RunRecord.join()`), as mean, p50, p95, max and a histogram; None when no call
  carried a cost.

Seconds are whole seconds on the run clock, the clock of every `*_s` time in the report.
A second's latency percentiles are exact (nearest rank over its requests' latencies); the
phase and run figures come from HdrHistogram (within 1 %), which would cost ~30 KB and
~1 ms per second of run here, 100 MB and seconds for an hour.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

from gaplab.checks.stats import percentile
from gaplab.engine.events import OUTCOMES
from gaplab.engine.record import RunRecord

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


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "requests": len(values),
        "mean_usd": sum(values) / len(values) if values else None,
        "p50_usd": percentile(values, 50),
        "p95_usd": percentile(values, 95),
        "max_usd": max(values, default=None),
    }


def run_cost(record: RunRecord) -> dict[str, Any] | None:
    """Cost per AI request, overall and per phase (the phase a request started in). A
    request that caused no call (a fallback served from cache, say) costs 0 and counts."""
    if not any(c.cost_usd for c in record.calls):
        return None
    join = record.join()
    per_request = {
        r.request_id: sum(c.cost_usd for c in join.calls_for(r.request_id)) for r in record.requests
    }
    values = list(per_request.values())
    by_phase: dict[str, list[float]] = defaultdict(list)
    for request in record.requests:
        by_phase[request.phase].append(per_request[request.request_id])
    return {
        "total_usd": sum(c.cost_usd for c in record.calls),
        "unjoined_calls": len(join.unjoined),
        "unjoined_usd": sum(c.cost_usd for c in join.unjoined),
        "per_request": _stats(values),
        "phases": {w.name: _stats(by_phase.get(w.name, [])) for w in record.phases},
        "histogram": _histogram(values),
    }
