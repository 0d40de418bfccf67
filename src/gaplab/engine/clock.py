"""The run clock: monotonic seconds since the run started, shared by every part of a run.

Injected rather than read from `time` so that the provider journal, the load generator and
the timeline agree on one time axis, and tests can drive time by hand.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class MonotonicClock:
    """Seconds since construction, from `time.monotonic()`, in whole microseconds: finer than
    any verdict needs, and short in the journal (`2.235933`, not `2.2359333069998684`)."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> float:
        return round(time.monotonic() - self._origin, 6)


class ManualClock:
    """A clock tests move by hand."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
