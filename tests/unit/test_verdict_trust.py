"""No READY without evidence: stopped runs are incomplete with true reasons, faults that hit
nothing leave their checks undecided, scoped faults are judged on the calls they matched,
and every measured verdict carries its margin."""

from __future__ import annotations

from gaplab.checks.base import CheckContext, Verdict
from gaplab.checks.decide import decide
from gaplab.checks.registry import CHECKS
from gaplab.engine.events import FaultCoverage, PhaseStarted, ProviderCallRecorded
from gaplab.engine.record import RunRecord
from gaplab.exit_codes import ExitCode, exit_code_for
from gaplab.provider.journal import ProviderCall
from gaplab.report.model import verdict_headline

from .synthetic import Builder, scenario

OUTAGE_CHECKS = (
    "[resilience.fallback, resilience.circuit_breaker, resilience.no_retry_storm, "
    "resilience.recovery]"
)


def _stopped_in_baseline() -> RunRecord:
    """The run was interrupted 6 s in: the baseline never ended, the outage never started."""
    record = RunRecord()
    record(
        PhaseStarted(t=1, phase="baseline", index=0, duration=10, faults=(), outage=False, slow=0.0)
    )
    return record


def test_a_run_stopped_before_its_outage_is_incomplete_with_the_true_reason() -> None:
    sc = scenario(checks=OUTAGE_CHECKS)
    card = decide(
        sc, _stopped_in_baseline(), 10.0, status="interrupted", fail_under=80, stopped_at=7.0
    )
    assert not card.ready and not card.complete
    assert {r.verdict for r in card.results} == {Verdict.NOT_RUN}
    fallback = next(r for r in card.results if r.id == "resilience.fallback")
    assert fallback.summary == (
        "the run stopped 6.0 s into its timeline (was interrupted), before phase outage started"
    )
    assert "no outage phase" not in fallback.summary
    assert card.stopped == "the run was interrupted 6.0 s into its timeline, in phase baseline"
    report = {
        "verdict": {
            "ready": card.ready,
            "complete": card.complete,
            "stopped": card.stopped,
            "score": card.score,
            "fail_under": 80,
            "counts": card.counts,
            "critical_failures": [],
            "missed_faults": [],
        }
    }
    assert verdict_headline(report).startswith("INCOMPLETE  the run was interrupted 6.0 s")
    assert exit_code_for("interrupted", card.ready) is ExitCode.INTERRUPTED
    assert exit_code_for("aborted", card.ready) is ExitCode.LAB_ERROR


def test_a_phase_cut_short_leaves_its_checks_undecided() -> None:
    b = Builder()
    b.requests(0, 10, 0.1)
    b.calls(0, 10, 0.1)
    record = b.record
    outage = record.phase("outage")
    assert outage is not None
    outage.end = None  # started, never ended
    card = decide(
        scenario(checks=OUTAGE_CHECKS),
        record,
        10.0,
        status="failed",
        fail_under=80,
        stopped_at=14.0,
    )
    reasons = {r.id: r.summary for r in card.results}
    assert reasons["resilience.fallback"].endswith("before phase outage ended")
    assert not card.ready


def test_all_checks_not_run_is_never_ready() -> None:
    b = Builder(outage=False)
    b.requests(0, 35, 0.1)
    card = decide(
        scenario(checks="[resilience.circuit_breaker]", fault="{latency: 1ms}"),
        b.finish(),
        10.0,
        status="completed",
        fail_under=0,
    )
    assert card.score is None and not card.ready


def _with_coverage(b: Builder, hits: int, matched: int) -> RunRecord:
    b.record(
        FaultCoverage(
            t=20,
            phase="outage",
            index=0,
            fault="provider: error 503 [match model 'primary']",
            source="provider",
            hits=hits,
            matched=matched,
        )
    )
    return b.finish()


def _steady(b: Builder, model: str = "gpt-4o-mini") -> None:
    b.requests(0, 35, 0.1, outcome="ok")
    for step in range(350):
        t = step / 10
        b._n += 1
        b.record(
            ProviderCallRecorded(
                t=t,
                call=ProviderCall(
                    call_id=f"c{b._n}",
                    dialect="openai",
                    path="/v1/chat/completions",
                    t_arrival=t,
                    t_first_byte=t,
                    t_end=t + 0.05,
                    status=200,
                    outcome="completed",
                    model_requested=model,
                ),
            )
        )


def test_a_fault_that_hit_nothing_decides_nothing_and_says_so() -> None:
    b = Builder()
    _steady(b)
    record = _with_coverage(b, hits=0, matched=0)
    sc = scenario(fault="{error: 503, match: {model: primary}}", checks=OUTAGE_CHECKS)
    card = decide(sc, record, 10.0, status="completed", fail_under=80)
    by_id = {r.id: r for r in card.results}
    reason = by_id["resilience.fallback"].summary
    assert reason.startswith("the fault provider: error 503 hit 0 of 100 calls")
    assert "match model 'primary'" in reason and "gpt-4o-mini ×100" in reason
    assert by_id["resilience.circuit_breaker"].verdict is Verdict.NOT_RUN
    assert not card.ready and card.missed_faults
    report = {
        "verdict": {
            "ready": False,
            "complete": True,
            "stopped": "",
            "score": card.score,
            "fail_under": 80,
            "counts": card.counts,
            "critical_failures": [],
            "missed_faults": list(card.missed_faults),
        }
    }
    assert verdict_headline(report).startswith("NO VERDICT  the experiment did not happen")


def _scoped_outage(b: Builder, storm: bool) -> None:
    """Baseline 10 calls/s for model primary; in the outage every primary call fails (a
    naive target triples them); another model keeps being called and answered."""
    b.requests(0, 10, 0.1)
    b.requests(10, 20, 0.1, outcome="error", status=500)
    b.requests(20, 35, 0.1)
    for step in range(350):
        t = step / 10
        in_outage = 10 <= t < 20
        for model in ("primary", "other"):
            repeats = 3 if (in_outage and storm and model == "primary") else 1
            if in_outage and not storm and model == "primary" and step % 10:
                repeats = 0  # a breaker: one probe a second
            for _ in range(repeats):
                b._n += 1
                status = 503 if in_outage and model == "primary" else 200
                b.record(
                    ProviderCallRecorded(
                        t=t,
                        call=ProviderCall(
                            call_id=f"c{b._n}",
                            dialect="openai",
                            path="/v1/chat/completions",
                            t_arrival=t,
                            t_first_byte=t,
                            t_end=t,
                            status=status,
                            outcome="completed" if status == 200 else "error",
                            model_requested=model,
                            fault="provider: error 503" if status != 200 else None,
                        ),
                    )
                )


def test_a_scoped_outage_is_judged_on_the_calls_it_matched() -> None:
    fault = "{error: 503, match: {model: primary}}"
    b = Builder()
    _scoped_outage(b, storm=False)
    ctx = CheckContext(scenario(fault), _with_coverage(b, hits=10, matched=10), 10.0)
    breaker = CHECKS["resilience.circuit_breaker"].decide(
        ctx, CHECKS["resilience.circuit_breaker"].Options()
    )
    assert breaker.verdict is Verdict.PASS, breaker.summary
    assert breaker.evidence.numbers["baseline_calls_per_s"] == 10.0  # primary only

    b = Builder()
    _scoped_outage(b, storm=True)
    ctx = CheckContext(scenario(fault), _with_coverage(b, hits=300, matched=300), 10.0)
    check = CHECKS["resilience.circuit_breaker"]
    failed = check.decide(ctx, check.Options())
    assert failed.verdict is Verdict.FAIL
    assert "rose from 10.0/s to 30.0/s" in failed.summary
    assert failed.evidence.margin is not None and failed.evidence.margin < -1


def test_margins_and_borderline() -> None:
    b = Builder()
    b.requests(0, 10, 0.1)
    b.calls(0, 10, 0.1)
    b.requests(10, 20, 0.1, outcome="degraded", latency=0.01)
    b.calls(10, 20, 0.4, status=503)  # 2.5 calls/s against 10/s at baseline: a 75 % drop
    b.requests(20, 35, 0.1)
    b.calls(20, 35, 0.1)
    check = CHECKS["resilience.circuit_breaker"]
    ctx = CheckContext(scenario(), b.finish(), 10.0)
    result = check.decide(ctx, check.Options(settle=0))
    # Allowed 2/s, measured 2.5/s: a fail 25 % past its limit, not borderline.
    assert result.verdict is Verdict.FAIL
    assert result.evidence.margin == -0.25 and not result.borderline
    near = check.decide(ctx, check.Options(settle=0, drop=0.76))  # allowed 2.4/s
    assert near.verdict is Verdict.FAIL and near.borderline
