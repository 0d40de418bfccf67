"""Latency percentiles with HdrHistogram: constant memory and O(1) recording per request,
so a snapshot at 10 Hz costs the same after a million requests as after ten.

Values are recorded in microseconds from 1 µs to one hour with two significant digits
(percentiles within 1 %), which is finer than any verdict in the checklist needs.
"""

from __future__ import annotations

from hdrh.histogram import HdrHistogram

from gaplab.metrics.snapshot import LatencySummary

_LOWEST_US = 1
_HIGHEST_US = 3_600_000_000
_DIGITS = 2


class LatencyRecorder:
    def __init__(self) -> None:
        self._histogram = HdrHistogram(_LOWEST_US, _HIGHEST_US, _DIGITS)
        self.count = 0

    def record(self, seconds: float) -> None:
        micros = min(max(int(seconds * 1_000_000), _LOWEST_US), _HIGHEST_US)
        self._histogram.record_value(micros)
        self.count += 1

    def percentile(self, percent: float) -> float | None:
        if not self.count:
            return None
        return float(self._histogram.get_value_at_percentile(percent)) / 1_000_000

    def summary(self) -> LatencySummary:
        if not self.count:
            return LatencySummary(0, None, None, None, None)
        # One walk of the histogram for all three percentiles.
        values = self._histogram.get_percentile_to_value_dict([50, 95, 99])
        return LatencySummary(
            count=self.count,
            p50=values[50] / 1_000_000,
            p95=values[95] / 1_000_000,
            p99=values[99] / 1_000_000,
            max=float(self._histogram.get_max_value()) / 1_000_000,
        )
