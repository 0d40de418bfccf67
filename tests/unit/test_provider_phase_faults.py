"""Scheduling that changes with the phase: first attempts only, a latency ramp across the
phase's length, the phase's own rate limits (and their hits), log-normal slowness."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from gaplab.engine.clock import ManualClock
from gaplab.provider.callstate import ProviderState
from gaplab.provider.faults import ProviderFault
from gaplab.provider.profiles import load_profile
from gaplab.provider.recorder import JournalView
from gaplab.provider.schedule import CallFacts, FaultSchedule


def facts(retry: int | None = None, reference: str | None = None) -> CallFacts:
    return CallFacts("openai", "gpt-4o-mini", None, retry, reference)


def test_first_attempt_by_the_sdks_retry_count() -> None:
    schedule = FaultSchedule(1)
    schedule.replace([ProviderFault(error=503, first_attempt=True)], 0.0)
    fired = [bool(schedule.firing(facts(retry), 1.0)) for retry in (0, 1, 2, 0, 1)]
    assert fired == [True, False, False, True, False]
    assert schedule.counters() == [{"matched": 2, "fired": 2}]


def test_first_attempt_by_the_reference_when_no_retry_count_is_sent() -> None:
    schedule = FaultSchedule(1)
    schedule.replace([ProviderFault(error=503, first_attempt=True)], 0.0)
    calls = ["KQX-000001", "KQX-000001", "KQX-000002", "KQX-000001", None]
    assert [bool(schedule.firing(facts(None, r), 1.0)) for r in calls] == [
        True, False, True, False, True,
    ]  # fmt: skip


def test_a_latency_ramp_moves_across_the_span_it_was_set_for() -> None:
    schedule = FaultSchedule(1)
    ramp = ProviderFault.model_validate({"latency": {"from": "500ms", "to": "8s"}})
    schedule.replace([ramp], 100.0, span=30.0)
    at = [schedule.firing(facts(), t)[0].latency for t in (100.0, 115.0, 130.0, 200.0)]
    assert at == [pytest.approx(0.5), pytest.approx(4.25), pytest.approx(8.0), pytest.approx(8.0)]
    assert ramp.slowness == 8.0 and "latency ramp 0.5s→8s" in ramp.describe()
    own = ProviderFault.model_validate({"latency": {"from": 1, "to": 3, "over": 10}})
    schedule.replace([own], 0.0, span=100.0)
    assert schedule.firing(facts(), 5.0)[0].latency == pytest.approx(2.0)


def test_lognormal_slowness_is_its_p99_not_its_median() -> None:
    fault = ProviderFault(latency=1.0, distribution="lognormal", sigma=1.5)
    assert fault.slowness == pytest.approx(math.exp(2.326 * 1.5))
    assert ProviderFault(latency=2.0).slowness == 2.0


def test_phase_rate_limits_replace_the_profiles_and_count_their_refusals() -> None:
    clock = ManualClock()
    state = ProviderState(load_profile("openai"), 1, clock, JournalView(10))
    limits = ProviderFault.model_validate({"rate_limits": {"requests_per_minute": 2}})
    state.set_faults([limits], span=20.0)
    admitted = [state.rate_window.admit(clock.now(), 10).admitted for _ in range(3)]
    assert admitted == [True, True, False]
    for _ in range(3):
        assert state.schedule.firing(facts(), clock.now()) == []  # never fires by itself
    assert "rate limits requests per minute 2" in state.schedule.rate_refused()
    assert state.schedule.counters() == [{"matched": 3, "fired": 1}]
    state.set_faults([])  # the phase ends: the profile's limits, a fresh window
    assert all(state.rate_window.admit(clock.now(), 10).admitted for _ in range(10))
    assert limits.is_outage


def test_rate_limits_stand_alone_in_their_fault() -> None:
    with pytest.raises(ValidationError, match="rate_limits sets the provider's limits"):
        ProviderFault.model_validate({"rate_limits": {"tokens_per_minute": 10}, "error": 503})
    with pytest.raises(ValidationError, match="rate_limits sets the provider's limits"):
        ProviderFault.model_validate({"rate_limits": {"tokens_per_minute": 10}, "first": 2})


def test_bundled_scenarios_list_the_timeout_check_only_where_calls_get_slower_than_the_sla() -> (
    None
):
    from gaplab.scenario.library import bundled_scenarios, load_scenario

    listing = {}
    for name, path in bundled_scenarios().items():
        scenario, _ = load_scenario(str(path))
        if any(ref.id == "resilience.timeout" for ref in scenario.checks):
            listing[name] = max(p.slow for p in scenario.phases) > scenario.sla
    assert listing and all(listing.values()), listing
    assert {"latency_spike", "latency_drift", "hang"} <= set(listing)
    assert not {"network_reset", "provider_down"} & set(listing)
