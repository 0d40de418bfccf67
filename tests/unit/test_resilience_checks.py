"""The six resilience checks, fed with synthetic records of good and bad targets."""

from __future__ import annotations

from typing import Any

from gaplab.checks.base import CheckContext, CheckResult, Verdict
from gaplab.checks.registry import CHECKS
from gaplab.scenario.loader import validate_text
from gaplab.scenario.models import Scenario

from .synthetic import SCENARIO, Builder, scenario


def run_check(
    check_id: str, builder: Builder, fault: str = "{error: 503}", **options: Any
) -> CheckResult:
    check = CHECKS[check_id]
    ctx = CheckContext(scenario(fault), builder.finish(), sla=10.0)
    return check.decide(ctx, check.Options.model_validate(options))


def steady_baseline(b: Builder) -> None:
    b.requests(0, 10, 0.1)
    b.calls(0, 10, 0.1)
    b.requests(20, 35, 0.1)
    b.calls(20, 35, 0.1)


# resilience.fallback ---------------------------------------------------------------------


def test_fallback_passes_when_users_get_degraded_answers() -> None:
    b = Builder()
    steady_baseline(b)
    b.requests(10, 20, 0.1, outcome="degraded", latency=0.01)
    result = run_check("resilience.fallback", b)
    assert result.verdict is Verdict.PASS
    assert result.evidence.numbers["degraded"] == 100


def test_fallback_fails_on_a_single_500() -> None:
    b = Builder()
    steady_baseline(b)
    b.requests(10, 19.9, 0.1, outcome="degraded")
    b.requests(19.9, 20, 1, outcome="error", status=500)
    result = run_check("resilience.fallback", b)
    assert result.verdict is Verdict.FAIL
    assert result.summary.startswith("1 of 100 requests failed")
    assert result.evidence.examples and result.critical


def test_fallback_not_run_without_outage() -> None:
    b = Builder(outage=False)
    steady_baseline(b)
    assert run_check("resilience.fallback", b).verdict is Verdict.NOT_RUN


# resilience.timeout ----------------------------------------------------------------------


def test_timeout_fails_when_a_hang_holds_users_past_the_sla() -> None:
    b = Builder(outage_slow=float("inf"))
    steady_baseline(b)
    b.requests(10, 20, 0.5, outcome="error", status=0, latency=30.0)
    result = run_check("resilience.timeout", b, "{hang: true}")
    assert result.verdict is Verdict.FAIL
    assert result.evidence.numbers["over_sla"] == 20
    assert result.evidence.numbers["sdk_read_timeout_s"] == []


def test_timeout_passes_with_fast_fallbacks_and_reports_sdk_timeout() -> None:
    b = Builder(outage_slow=float("inf"))
    steady_baseline(b)
    b.requests(10, 20, 0.5, outcome="degraded", latency=4.0)
    b.calls(10, 20, 1.0, status=0)
    result = run_check("resilience.timeout", b, "{hang: true}")
    assert result.verdict is Verdict.PASS
    assert "read timeout of 600s" in result.summary


def test_timeout_uses_the_sla_option() -> None:
    b = Builder(outage_slow=float("inf"))
    steady_baseline(b)
    b.requests(10, 20, 0.5, outcome="degraded", latency=4.0)
    assert run_check("resilience.timeout", b, "{hang: true}", sla="3s").verdict is Verdict.FAIL


def test_timeout_not_run_when_provider_is_not_slow() -> None:
    b = Builder(outage_slow=2.0)
    steady_baseline(b)
    assert run_check("resilience.timeout", b, "{latency: 2s}").verdict is Verdict.NOT_RUN


# resilience.contained --------------------------------------------------------------------


def test_contained_passes_when_non_ai_endpoints_do_not_notice() -> None:
    b = Builder()
    steady_baseline(b)
    b.requests(0, 35, 0.25, latency=0.002, endpoint="GET /notes/1")
    assert run_check("resilience.contained", b).verdict is Verdict.PASS


def test_contained_fails_when_non_ai_endpoints_slow_down() -> None:
    b = Builder()
    steady_baseline(b)
    b.requests(0, 10, 0.25, latency=0.002, endpoint="GET /notes/1")
    b.requests(10, 20, 0.25, latency=1.5, endpoint="GET /notes/1")
    result = run_check("resilience.contained", b)
    assert result.verdict is Verdict.FAIL and "p95 rose" in result.summary


def test_contained_fails_when_non_ai_endpoints_start_failing() -> None:
    b = Builder()
    steady_baseline(b)
    b.requests(0, 10, 0.25, latency=0.002, endpoint="GET /notes/1")
    b.requests(10, 20, 0.25, latency=0.002, status=500, outcome="error", endpoint="GET /notes/1")
    result = run_check("resilience.contained", b)
    assert result.verdict is Verdict.FAIL and "lost their baseline status 200" in result.summary


def test_contained_tolerates_small_absolute_jitter() -> None:
    b = Builder()
    steady_baseline(b)
    b.requests(0, 10, 0.25, latency=0.002, endpoint="GET /notes/1")
    b.requests(10, 20, 0.25, latency=0.040, endpoint="GET /notes/1")  # 20x, but +38 ms
    assert run_check("resilience.contained", b).verdict is Verdict.PASS


def test_contained_not_run_without_non_ai_endpoints() -> None:
    b = Builder()
    steady_baseline(b)
    assert run_check("resilience.contained", b).verdict is Verdict.NOT_RUN


# resilience.circuit_breaker --------------------------------------------------------------


def test_breaker_passes_when_calls_stop_and_users_get_fast_answers() -> None:
    b = Builder()
    steady_baseline(b)
    b.calls(10, 10.5, 0.1, status=503)  # five failures, then the breaker opens
    b.calls(12.5, 20, 2.5, status=503)  # a half-open probe every 2.5 s
    b.requests(10, 20, 0.1, outcome="degraded", latency=0.005)
    result = run_check("resilience.circuit_breaker", b)
    assert result.verdict is Verdict.PASS, result.summary
    assert result.evidence.numbers["estimated_threshold_calls"] == 5
    assert abs(result.evidence.numbers["estimated_break_s"] - 2.5) < 0.01


def test_breaker_fails_when_calls_continue() -> None:
    b = Builder()
    steady_baseline(b)
    b.calls(10, 20, 0.1, status=503)
    b.requests(10, 20, 0.1, outcome="degraded", latency=0.3)
    result = run_check("resilience.circuit_breaker", b)
    assert result.verdict is Verdict.FAIL and "fell only" in result.summary


def test_breaker_fails_when_users_wait() -> None:
    b = Builder()
    steady_baseline(b)
    b.calls(10, 10.5, 0.1, status=503)
    b.requests(10, 20, 0.5, outcome="degraded", latency=4.0)
    result = run_check("resilience.circuit_breaker", b)
    assert result.verdict is Verdict.FAIL and "users waited" in result.summary


def test_breaker_fails_when_traffic_never_resumes() -> None:
    b = Builder()
    b.requests(0, 10, 0.1)
    b.calls(0, 10, 0.1)
    b.calls(10, 10.5, 0.1, status=503)
    b.requests(10, 35, 0.1, outcome="degraded", latency=0.005)
    result = run_check("resilience.circuit_breaker", b)
    assert result.verdict is Verdict.FAIL and "did not resume" in result.summary


def test_breaker_not_run_for_an_intermittent_fault() -> None:
    b = Builder()
    steady_baseline(b)
    result = run_check("resilience.circuit_breaker", b, "{error: 503, probability: 0.3}")
    assert result.verdict is Verdict.NOT_RUN


# resilience.no_retry_storm ---------------------------------------------------------------


def test_storm_fails_on_nine_calls_per_request() -> None:
    b = Builder()
    steady_baseline(b)
    b.requests(10, 20, 0.9, outcome="error", status=500)
    b.calls(10, 20, 0.1, status=503)
    result = run_check("resilience.no_retry_storm", b)
    assert result.verdict is Verdict.FAIL
    assert result.evidence.numbers["amplification"] > 8


def test_storm_fails_when_the_rate_climbs_above_baseline() -> None:
    b = Builder()
    steady_baseline(b)
    b.requests(10, 20, 0.05, outcome="degraded")
    b.calls(10, 20, 0.05, status=429)
    result = run_check("resilience.no_retry_storm", b, "{error: 429}")
    assert result.verdict is Verdict.FAIL and "upstream rate rose" in result.summary


def test_storm_passes_with_bounded_retries() -> None:
    b = Builder()
    steady_baseline(b)
    b.requests(10, 20, 0.3, outcome="error", status=500)
    b.calls(10, 20, 0.1, status=503)  # 3 calls per request, same rate as baseline
    result = run_check("resilience.no_retry_storm", b)
    assert result.verdict is Verdict.PASS, result.summary


# resilience.recovery ---------------------------------------------------------------------


def test_recovery_passes_when_requests_are_ok_after_the_window() -> None:
    b = Builder()
    b.requests(0, 10, 0.1)
    b.requests(10, 20, 0.1, outcome="degraded")
    b.requests(20, 25, 0.1, outcome="degraded")
    b.requests(25, 35, 0.1)
    result = run_check("resilience.recovery", b, within="5s")
    assert result.verdict is Verdict.PASS
    assert result.evidence.numbers["first_ok_after_s"] == 5.2  # first ok answer arrived


def test_recovery_fails_when_the_target_stays_degraded() -> None:
    b = Builder()
    b.requests(0, 10, 0.1)
    b.requests(10, 35, 0.1, outcome="degraded")
    result = run_check("resilience.recovery", b, within="5s")
    assert result.verdict is Verdict.FAIL and "only 0%" in result.summary


def test_recovery_not_run_when_the_phase_is_too_short() -> None:
    b = Builder()
    b.requests(0, 35, 0.1)
    result = run_check("resilience.recovery", b, within="15s")  # recovery lasts 15 s
    assert result.verdict is Verdict.NOT_RUN and "too short" in result.summary


def test_timeout_judges_requests_a_network_fault_caught_in_flight() -> None:
    # A 12 s latency toxic arrives while every user waits on a request sent just before
    # it: none starts in the phase, but each was slowed by it (toxics act on open
    # connections), so the check judges them instead of finding no request at all.
    b = Builder(outage_slow=12.0)
    b.requests(0, 9.5, 0.1)
    b.calls(0, 9.5, 0.1)
    b.requests(9.5, 10.0, 0.05, latency=11.0)  # 10 requests, in flight at the edge
    b.requests(21, 35, 0.1)
    b.calls(21, 35, 0.1)
    text = SCENARIO.replace("[provider: {FAULT}]", "[network: {toxic: latency, latency: 12s}]")
    ctx = CheckContext(validate_text(text, "synthetic.yaml", Scenario), b.finish(), sla=10.0)
    check = CHECKS["resilience.timeout"]
    result = check.decide(ctx, check.Options.model_validate({}))
    assert result.verdict is Verdict.FAIL, result.summary
    assert result.evidence.numbers["over_sla"] == 10
