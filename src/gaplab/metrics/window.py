"""Percentiles over a sliding window of time: the values recorded in the last `seconds`.

Kept as a plain deque of (time, value) and sorted when asked: the lab monitor asks once a
second over at most a few thousand values (20 timer ticks a second, and one slip per
arrival), where exact nearest-rank figures cost well under a millisecond; HdrHistogram
(gaplab.metrics.latency) serves the run-wide figures, which grow without bound.
"""

from __future__ import annotations

import math
from collections import deque


class SlidingWindow:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: deque[tuple[float, float]] = deque()

    def record(self, t: float, value: float) -> None:
        self._values.append((t, value))

    def _evict(self, now: float) -> None:
        values, oldest = self._values, now - self.seconds
        while values and values[0][0] < oldest:
            values.popleft()

    def percentiles(self, now: float, *percents: float) -> tuple[float | None, ...]:
        """Nearest-rank percentiles of the values recorded in (now - seconds, now]."""
        self._evict(now)
        if not self._values:
            return tuple(None for _ in percents)
        ordered = sorted(v for _, v in self._values)
        return tuple(ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] for p in percents)

    def __len__(self) -> int:
        return len(self._values)
