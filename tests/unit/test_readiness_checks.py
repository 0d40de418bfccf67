"""The observability and integration checks fed with synthetic records, probe events
included: each fails on the record of a target without the defence, passes with it, and is
not_run (saying what to declare) when the target file lacks the declaration."""

from __future__ import annotations

from gaplab.checks.base import EvidenceKind, Verdict
from gaplab.demo.spec import demo_target

from .readiness_records import Run, scenario

BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
NAIVE = demo_target("demo:naive")  # declares health, write, enrichment; no metrics, switch
OUTAGE = """\
  - {name: baseline, for: 10s}
  - {name: outage, for: 10s, faults: [provider: {error: 503}]}
  - {name: recovery, for: 10s}"""


def cumulative(latencies: list[float]) -> tuple[tuple[float, float], ...]:
    return tuple((b, float(sum(1 for x in latencies if x <= b))) for b in BUCKETS)


# -- observability.correlation -------------------------------------------------------------
def correlated_run(carry: bool) -> Run:
    run = Run(scenario(OUTAGE))
    for i in range(20):
        reference = f"ABC-{100000 + i}"
        request_id = run.request(i * 0.5, reference=reference)
        correlation = {"x-request-id": request_id} if carry else {}
        run.call(i * 0.5 + 0.01, correlation=correlation,
                 messages=({"role": "user", "content": f"order {reference}?"},))  # fmt: skip
    return run


def test_correlation_fails_when_calls_carry_no_request_id_and_passes_when_all_do() -> None:
    bare = correlated_run(carry=False).judge("observability.correlation")
    assert bare.verdict is Verdict.FAIL and bare.evidence.kind is EvidenceKind.MEASURED
    assert bare.evidence.numbers["carrying_request_id"] == 0
    assert bare.evidence.numbers["calls_joined"] == 20 and bare.evidence.examples
    carried = correlated_run(carry=True).judge("observability.correlation")
    assert carried.verdict is Verdict.PASS, carried.summary
    assert carried.evidence.numbers["carried_in"] == {"x-request-id": 20}
    assert carried.evidence.margin == 1.0 and not carried.borderline


def test_correlation_not_run_without_joined_calls() -> None:
    run = Run(scenario(OUTAGE))
    run.request(1.0)
    assert run.judge("observability.correlation").verdict is Verdict.NOT_RUN


# -- observability.health_degraded --------------------------------------------------------
def health_run(degraded_in_outage: bool, back_after: float = 1.0) -> Run:
    run = Run(scenario(OUTAGE))
    for i in range(20):
        run.call(i * 0.5)  # the baseline's calls (the outage needs a baseline rate)
    run.health(0, 10, degraded=False)
    run.health(10, 20, degraded=degraded_in_outage)
    run.health(20, 20 + back_after, degraded=degraded_in_outage)
    run.health(20 + back_after, 30, degraded=False)
    return run


def test_health_that_always_says_ok_fails_and_one_that_says_degraded_passes() -> None:
    always_ok = health_run(degraded_in_outage=False).judge("observability.health_degraded")
    assert always_ok.verdict is Verdict.FAIL and always_ok.evidence.kind is EvidenceKind.PROBED
    assert "degraded in only 0%" in always_ok.summary
    assert always_ok.evidence.numbers["degraded_in_outage"] == 0.0
    honest = health_run(degraded_in_outage=True).judge("observability.health_degraded")
    assert honest.verdict is Verdict.PASS, honest.summary
    assert honest.evidence.numbers["healthy_again_after_s"] == 1.0
    stuck = health_run(True, back_after=9.5).judge("observability.health_degraded", within=5)
    assert stuck.verdict is Verdict.FAIL and "healthy again" in stuck.summary


def test_health_not_run_without_the_declaration() -> None:
    target = NAIVE.model_copy(update={"health": None})
    got = health_run(True).judge("observability.health_degraded", target=target)
    assert got.verdict is Verdict.NOT_RUN and "declare `health:`" in got.summary


# -- observability.latency_metrics ---------------------------------------------------------
SLOW = """\
  - {name: baseline, for: 10s}
  - {name: slow, for: 10s, faults: [provider: {latency: 2s}]}
  - {name: after, for: 5s}"""


def latency_run(slow_seen: float) -> Run:
    """Scrapes every second of a histogram that saw 0.3 s calls, then `slow_seen` s."""
    run = Run(scenario(SLOW))
    seen: list[float] = []
    for second in range(26):
        run.scrape(float(second), buckets=cumulative(seen), count=float(len(seen)))
        if second < 25:
            seen += [0.3 if second < 10 else slow_seen] * 3
    return run


def test_latency_metrics_move_with_the_provider() -> None:
    flat = latency_run(slow_seen=0.3).judge("observability.latency_metrics")
    assert flat.verdict is Verdict.FAIL and flat.evidence.kind is EvidenceKind.PROBED
    assert flat.evidence.numbers["p50_baseline_s"] == flat.evidence.numbers["p50_slow_s"]
    moving = latency_run(slow_seen=2.3).judge("observability.latency_metrics")
    assert moving.verdict is Verdict.PASS, moving.summary
    assert moving.evidence.numbers["p50_slow_s"] - moving.evidence.numbers["p50_baseline_s"] > 1


def test_latency_metrics_missing_histogram_fails_and_undeclared_is_not_run() -> None:
    run = latency_run(2.3)
    run.scrape(25.0, missing=("demo_ai_call_seconds",))
    missing = run.judge("observability.latency_metrics")
    assert missing.verdict is Verdict.FAIL and "demo_ai_call_seconds" in missing.summary
    undeclared = latency_run(2.3).judge("observability.latency_metrics", target=NAIVE)
    assert undeclared.verdict is Verdict.NOT_RUN and "declare `metrics:`" in undeclared.summary


# -- observability.token_metrics -----------------------------------------------------------
def token_run(counted_share: float) -> Run:
    run = Run(scenario(OUTAGE))
    run.scrape(0.0, tokens_in=0.0, tokens_out=0.0)
    for i in range(40):
        run.call(0.5 + i * 0.5, tokens_in=100, tokens_out=40)
    run.scrape(29.0, tokens_in=4000 * counted_share, tokens_out=1600 * counted_share)
    return run


def test_token_counters_within_five_percent_pass_and_off_by_ten_fail() -> None:
    exact = token_run(1.0).judge("observability.token_metrics")
    assert exact.verdict is Verdict.PASS, exact.summary
    assert exact.evidence.numbers["input_provider"] == 4000
    close = token_run(0.97).judge("observability.token_metrics")
    assert close.verdict is Verdict.PASS
    off = token_run(0.9).judge("observability.token_metrics")
    assert off.verdict is Verdict.FAIL and off.evidence.margin is not None
    assert off.evidence.margin < 0 and off.evidence.numbers["relative_difference"]["input"] == 0.1


# -- observability.model_metrics -----------------------------------------------------------
SWAP = """\
  - {name: baseline, for: 10s}
  - {name: swapped, for: 10s, faults: [provider: {model_swap: gpt-4.1-mini}]}
  - {name: after, for: 5s}"""


def model_run(label_follows: bool) -> Run:
    run = Run(scenario(SWAP))
    totals = {"gpt-4o-mini-2024-07-18": 0.0, "gpt-4.1-mini-2025-04-14": 0.0}
    for second in range(26):
        run.scrape(float(second), models=tuple(totals.items()))
        served = "gpt-4o-mini-2024-07-18" if second < 10 else "gpt-4.1-mini-2025-04-14"
        if second < 25:
            run.call(second + 0.2, model_served=served)
            totals[served if label_follows else "gpt-4o-mini-2024-07-18"] += 1
    return run


def test_model_label_must_follow_the_served_model() -> None:
    follows = model_run(label_follows=True).judge("observability.model_metrics")
    assert follows.verdict is Verdict.PASS, follows.summary
    assert follows.evidence.numbers["swapped"]["served"] == "gpt-4.1-mini-2025-04-14"
    stale = model_run(label_follows=False).judge("observability.model_metrics")
    assert stale.verdict is Verdict.FAIL
    assert "served gpt-4.1-mini-2025-04-14, the metrics showed gpt-4o-mini" in stale.summary


# -- integration.concurrency_limit ---------------------------------------------------------
BURST = """\
  - {name: baseline, for: 10s}
  - {name: burst, for: 10s, users: 40}
  - {name: after, for: 5s}"""


def burst_run(in_flight: int, late: int = 0) -> Run:
    run = Run(scenario(BURST))
    for i in range(10):
        run.call(float(i), duration=0.5)
    for wave in range(5):  # each wave: `in_flight` calls overlapping for 1.5 s
        for _ in range(in_flight):
            run.call(10.0 + wave * 2, duration=1.5)
    for i in range(200):
        shed = i >= in_flight * 5
        run.request(10.0 + i * 0.04, latency=12.0 if i < late else 1.6,
                    outcome="degraded" if shed else "ok", status=503 if shed else 200)  # fmt: skip
    return run


def test_bounded_calls_in_flight_pass_and_unbounded_fail() -> None:
    bounded = burst_run(in_flight=12).judge("integration.concurrency_limit")
    assert bounded.verdict is Verdict.PASS, bounded.summary
    assert bounded.evidence.numbers["peak_in_flight"] == 12
    assert bounded.evidence.numbers["demand"] == 40 and bounded.evidence.numbers["shed"] == 140
    unbounded = burst_run(in_flight=40).judge("integration.concurrency_limit")
    assert unbounded.verdict is Verdict.FAIL and "40 upstream calls" in unbounded.summary


def test_a_bulkhead_that_queues_past_the_sla_fails() -> None:
    queued = burst_run(in_flight=12, late=30).judge("integration.concurrency_limit")
    assert queued.verdict is Verdict.FAIL and queued.evidence.numbers["late"] == 30
    assert "queued or broke" in queued.summary


def test_concurrency_not_run_without_a_burst() -> None:
    run = Run(scenario(OUTAGE))
    run.call(1.0)
    run.request(1.0)
    got = run.judge("integration.concurrency_limit")
    assert got.verdict is Verdict.NOT_RUN and "needs a burst" in got.summary


# -- integration.async_write ---------------------------------------------------------------
def writes_run(slow_latency: float, slow_status: int = 201) -> Run:
    run = Run(scenario(SLOW))
    for i in range(50):
        t = i * 0.5
        slow = 10 <= t < 20
        run.act("write", t, latency=slow_latency if slow else 0.01,
                status=slow_status if slow else 201)  # fmt: skip
    return run


def test_writes_that_wait_for_the_model_fail_and_queued_ones_pass() -> None:
    waiting = writes_run(slow_latency=2.1).judge("integration.async_write")
    assert waiting.verdict is Verdict.FAIL and waiting.evidence.numbers["slow"]["p95_s"] > 2
    failing = writes_run(slow_latency=0.01, slow_status=500).judge("integration.async_write")
    assert failing.verdict is Verdict.FAIL and failing.evidence.numbers["slow"]["answered"] == 0
    queued = writes_run(slow_latency=0.012).judge("integration.async_write")
    assert queued.verdict is Verdict.PASS, queued.summary
    assert not queued.borderline  # 100 % answered is far from the 99 % floor


def test_async_write_not_run_without_the_declaration() -> None:
    target = NAIVE.model_copy(update={"write": None})
    got = writes_run(0.01).judge("integration.async_write", target=target)
    assert got.verdict is Verdict.NOT_RUN and "declare `write:`" in got.summary


# -- integration.kill_switch ---------------------------------------------------------------
SWITCH = """\
  - {name: baseline, for: 5s}
  - {name: switched_off, for: 10s, kill_switch: true}
  - {name: after, for: 5s}"""


def switch_run(calls_while_off: int, status: int = 200, errors: bool = False) -> Run:
    run = Run(scenario(SWITCH))
    run.act("kill_switch.off", 5.0, status=status)
    run.act("kill_switch.on", 14.99, status=status)  # at the phase end
    for i in range(40):
        t = i * 0.5
        off = 6 <= t < 15
        run.request(t, outcome="error" if off and errors else "degraded" if off else "ok",
                    status=500 if off and errors else 200)  # fmt: skip
        if not off or (i % 2 == 0 and calls_while_off > 0):
            run.call(t + 0.01)
            calls_while_off -= int(off)
    return run


def test_kill_switch_stops_upstream_calls_or_fails() -> None:
    works = switch_run(calls_while_off=0).judge("integration.kill_switch")
    assert works.verdict is Verdict.PASS, works.summary
    assert works.evidence.numbers["upstream_calls_while_off"] == 0
    assert works.evidence.numbers["successful_calls_after"] == 10
    ignored = switch_run(calls_while_off=5).judge("integration.kill_switch")
    assert ignored.verdict is Verdict.FAIL and "5 upstream calls" in ignored.summary
    missing = switch_run(calls_while_off=0, status=404).judge("integration.kill_switch")
    assert missing.verdict is Verdict.FAIL and "HTTP 404" in missing.summary
    broken = switch_run(calls_while_off=0, errors=True).judge("integration.kill_switch")
    assert broken.verdict is Verdict.FAIL and "got an error while off" in broken.summary


def test_kill_switch_not_run_when_the_target_declares_none() -> None:
    got = switch_run(0).judge("integration.kill_switch", target=NAIVE)
    assert got.verdict is Verdict.NOT_RUN and "declare `kill_switch" in got.summary


# -- integration.idempotent_enrichment -----------------------------------------------------
def enrich_run(calls_after: int) -> Run:
    run = Run(scenario(OUTAGE))
    message = ({"role": "user", "content": "Summarise note XYZ-654321: a flat tyre"},)
    run.act("write", 1.0, status=201, item="7", reference="XYZ-654321")
    run.call(1.1, duration=0.3, messages=message)
    for k in range(3):
        run.act("re-enrich", 2.0 + k, item="7", reference="XYZ-654321")
        if k < calls_after:
            run.call(2.01 + k, messages=message)
    return run


def test_re_enrichment_must_make_no_upstream_call() -> None:
    once = enrich_run(calls_after=0).judge("integration.idempotent_enrichment")
    assert once.verdict is Verdict.PASS and once.evidence.kind is EvidenceKind.PROBED
    assert once.evidence.numbers["enrichment_calls"] == 1
    again = enrich_run(calls_after=3).judge("integration.idempotent_enrichment")
    assert again.verdict is Verdict.FAIL
    assert again.evidence.numbers["calls_after_retriggers"] == 3


def test_enrichment_not_run_when_the_item_was_never_enriched() -> None:
    run = Run(scenario(OUTAGE))
    run.act("write", 1.0, status=500, detail="HTTP 500")
    got = run.judge("integration.idempotent_enrichment")
    assert got.verdict is Verdict.NOT_RUN and "the probe write failed" in got.summary
