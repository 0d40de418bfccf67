"""The hardened demo's circuit breaker, driven by a fake clock."""

from __future__ import annotations

import pytest

from gaplab.demo.breaker import CircuitBreaker, CircuitOpenError


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def failing_calls(breaker: CircuitBreaker, count: int) -> None:
    for _ in range(count):
        breaker.record_failure(breaker.acquire())


def test_opens_after_threshold_consecutive_failures() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=3, break_duration=5.0, clock=clock)
    failing_calls(breaker, 2)
    assert breaker.state == "closed"
    assert breaker.consecutive_failures == 2
    failing_calls(breaker, 1)
    assert breaker.state == "open"
    assert breaker.times_opened == 1
    with pytest.raises(CircuitOpenError) as caught:
        breaker.acquire()
    assert caught.value.retry_in == pytest.approx(5.0)


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(threshold=3, break_duration=5.0, clock=FakeClock())
    failing_calls(breaker, 2)
    breaker.record_success(breaker.acquire())
    failing_calls(breaker, 2)
    assert breaker.state == "closed"
    assert breaker.consecutive_failures == 2


def test_stays_open_for_the_break_then_lets_exactly_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, break_duration=5.0, clock=clock)
    failing_calls(breaker, 1)
    clock.now += 4.9
    with pytest.raises(CircuitOpenError) as caught:
        breaker.acquire()
    assert caught.value.retry_in == pytest.approx(0.1)
    clock.now += 0.1
    assert breaker.state == "half_open"
    probe = breaker.acquire()
    assert probe.is_probe
    # While the probe is out, everybody else still fails fast.
    for _ in range(3):
        with pytest.raises(CircuitOpenError):
            breaker.acquire()
    breaker.record_success(probe)
    assert breaker.state == "closed"
    assert not breaker.acquire().is_probe


def test_a_failed_probe_reopens_for_a_full_break() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=2, break_duration=1.0, clock=clock)
    failing_calls(breaker, 2)
    clock.now += 1.0
    probe = breaker.acquire()
    clock.now += 0.3  # the probe took a while
    breaker.record_failure(probe)
    assert breaker.state == "open"
    assert breaker.times_opened == 2
    clock.now += 0.99
    with pytest.raises(CircuitOpenError):
        breaker.acquire()
    clock.now += 0.01
    assert breaker.acquire().is_probe


def test_late_results_of_calls_from_before_the_break_are_ignored() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=2, break_duration=1.0, clock=clock)
    slow = breaker.acquire()  # started while closed, still running when it opens
    failing_calls(breaker, 2)
    assert breaker.state == "open"
    breaker.record_success(slow)  # must not close the breaker early
    assert breaker.state == "open"
    clock.now += 1.0
    probe = breaker.acquire()
    breaker.record_failure(slow)  # must not decide the probe's outcome
    assert breaker.state == "half_open"
    breaker.record_success(probe)
    assert breaker.state == "closed"
    breaker.record_failure(slow)  # a stale failure does not count in the new closed period
    assert breaker.consecutive_failures == 0


def test_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker(break_duration=0)
