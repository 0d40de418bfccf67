"""A consecutive-failure circuit breaker for asyncio code, with an injected clock.

Closed: calls pass; `threshold` consecutive failures open it. Open: calls fail fast with
`CircuitOpenError` for `break_duration` seconds. Then half-open: exactly one probe passes
(concurrent callers still fail fast); its success closes the breaker, its failure reopens it.

Written by hand, on purpose (about 100 lines). pybreaker's async support needs Tornado;
purgatory reads the wall clock (`time.time()`, not injectable) and lets every concurrent
caller through while half-open, so a recovering provider gets the whole backlog at once;
aiobreaker is unmaintained since 2021. What we need is small, single-threaded (one event
loop: no lock, since no state change awaits) and must be testable with a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]


class CircuitOpenError(Exception):
    """The breaker is open: the call was not made."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"circuit open; next probe in {max(retry_in, 0.0):.2f}s")
        self.retry_in = retry_in


@dataclass(frozen=True)
class Permit:
    """Leave to make one call; hand it back with `record_success` / `record_failure`."""

    is_probe: bool
    generation: int  # which closed period it was issued in; stale results are ignored


class CircuitBreaker:
    def __init__(
        self,
        threshold: int = 5,
        break_duration: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        if break_duration <= 0:
            raise ValueError("break_duration must be positive")
        self.threshold = threshold
        self.break_duration = break_duration
        self._clock = clock
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._generation = 0
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        """The state as a caller would find it now (an expired open period reads half-open)."""
        if self._state == "open" and self._clock() - self._opened_at >= self.break_duration:
            return "half_open"
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def acquire(self) -> Permit:
        """A permit to call, or `CircuitOpenError` when the call must not be made."""
        now = self._clock()
        if self._state == "closed":
            return Permit(is_probe=False, generation=self._generation)
        if self._state == "open":
            remaining = self._opened_at + self.break_duration - now
            if remaining > 0:
                raise CircuitOpenError(remaining)
            self._state = "half_open"
        if self._probe_in_flight:
            raise CircuitOpenError(0.0)
        self._probe_in_flight = True
        return Permit(is_probe=True, generation=self._generation)

    def record_success(self, permit: Permit) -> None:
        if permit.is_probe and self._state == "half_open":
            self._probe_in_flight = False
            self._state = "closed"
            self._failures = 0
            self._generation += 1
        elif self._state == "closed" and permit.generation == self._generation:
            self._failures = 0

    def record_failure(self, permit: Permit) -> None:
        if permit.is_probe and self._state == "half_open":
            self._probe_in_flight = False
            self._open()
        elif self._state == "closed" and permit.generation == self._generation:
            self._failures += 1
            if self._failures >= self.threshold:
                self._open()

    def _open(self) -> None:
        self._state = "open"
        self._opened_at = self._clock()
        self._failures = 0
        self._generation += 1
        self.times_opened += 1
