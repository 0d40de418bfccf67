"""Small statistics over lists of events, shared by the check evaluators."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from gaplab.engine.events import OUTCOMES, UserRequestFinished


def percentile(values: Sequence[float], percent: float) -> float | None:
    """Nearest-rank percentile: the smallest value with `percent` % of values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def outcome_counts(requests: Sequence[UserRequestFinished]) -> dict[str, int]:
    counts = Counter(r.outcome for r in requests)
    return {k: counts.get(k, 0) for k in OUTCOMES}


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0
