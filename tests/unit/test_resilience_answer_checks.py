"""The retry, answer, stream and model checks on synthetic runs: real engine events, made-up
timing. Each check passes on the behaviour it asks for and fails, naming the request, on
the one it exists to catch."""

from __future__ import annotations

from typing import Any

from gaplab.checks.base import CheckContext, CheckResult, Verdict
from gaplab.checks.registry import CHECKS
from gaplab.engine.events import (
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    UserRequestFinished,
)
from gaplab.engine.record import RunRecord
from gaplab.provider.journal import ProviderCall
from gaplab.scenario.loader import validate_text
from gaplab.scenario.models import Scenario
from gaplab.scenario.target_models import TargetFile

TEMPLATE = """\
version: 1
name: synthetic
title: synthetic
provider: openai
phases:
  - {{name: baseline, for: 10s}}
  - name: fault
    for: 10s
    faults: [provider: {fault}]
checks: [{check}]
"""


class Run:
    """A two-phase run (baseline 0-10 s, fault 10-20 s) built request by request."""

    def __init__(self, check: str, fault: str, target: TargetFile | None = None) -> None:
        text = TEMPLATE.format(fault=fault, check=check)
        self.scenario = validate_text(text, "synthetic.yaml", Scenario)
        self.check = check
        self.target = target
        self.record = RunRecord()
        for index, (name, start, end) in enumerate((("baseline", 0, 10), ("fault", 10, 20))):
            faults = ("x",) if name == "fault" else ()
            self.record(PhaseStarted(t=start, phase=name, index=index, duration=10,
                                     faults=faults, outage=False, slow=0.0))  # fmt: skip
            self.record(PhaseEnded(t=end, phase=name, index=index))
        self._n = 0

    def request(
        self, start: float, calls: list[dict[str, Any]], outcome: str = "ok", **extra: Any
    ) -> str:
        self._n += 1
        request_id = f"user-0001-{self._n:06d}"
        t = start
        for call in calls:
            fields: dict[str, Any] = {
                "call_id": f"c{self._n}-{t}", "dialect": "openai", "path": "/v1/chat/completions",
                "t_arrival": t, "t_first_byte": t + 0.1, "t_end": t + 0.1, "status": 200,
                "outcome": "completed", "model_requested": "gpt-4o-mini-2024-07-18",
                "model_served": "gpt-4o-mini-2024-07-18",
                "correlation": {"x-request-id": request_id},
            }  # fmt: skip
            gap = call.pop("gap", 0.2)
            fields.update(call)
            self.record(ProviderCallRecorded(t=t + 0.1, call=ProviderCall(**fields)))
            t += 0.1 + gap
        event: dict[str, Any] = {
            "t": t, "request_id": request_id, "user": "user-0001", "phase": "fault",
            "started": start, "latency": t - start, "outcome": outcome, "status": 200,
        }  # fmt: skip
        event.update(extra)
        self.record(UserRequestFinished(**event))
        return request_id

    def result(self, **options: Any) -> CheckResult:
        check = CHECKS[self.check]
        context = CheckContext(self.scenario, self.record, 10.0, target=self.target)
        return check.decide(context, check.Options.model_validate(options))


def covered(run: Run, hits: int = 1) -> None:
    from gaplab.engine.events import FaultCoverage

    run.record(FaultCoverage(t=20, phase="fault", index=0, fault="x", source="provider",
                             hits=hits))  # fmt: skip


BLIP = "{error: 503, first_attempt: true}"
BLIP_FAULT = "provider: error 503 [first attempt of each request]"


def test_retry_transient_passes_when_one_retry_saves_the_request() -> None:
    run = Run("resilience.retry_transient", BLIP)
    covered(run)
    for start in (11, 12, 13):
        run.request(start, [{"status": 503, "fault": BLIP_FAULT}, {"retry_count": 1}])
    result = run.result()
    assert result.verdict is Verdict.PASS, result.summary
    assert result.evidence.numbers["mean_calls"] == 2


def test_retry_transient_fails_when_the_first_error_reaches_the_user() -> None:
    run = Run("resilience.retry_transient", BLIP)
    covered(run)
    run.request(11, [{"status": 503, "fault": BLIP_FAULT}, {}])
    lost = run.request(12, [{"status": 503, "fault": BLIP_FAULT}], "degraded")
    result = run.result()
    assert result.verdict is Verdict.FAIL
    assert lost in result.summary and "503 at 12.00s" in result.summary
    assert result.evidence.examples == (lost,) and result.evidence.margin == -0.5


def test_retry_transient_fails_past_the_call_budget() -> None:
    run = Run("resilience.retry_transient", BLIP)
    covered(run)
    run.request(11, [{"status": 503, "fault": BLIP_FAULT}] + [{"status": 503}] * 3 + [{}])
    result = run.result()
    assert result.verdict is Verdict.FAIL and "more than 3 calls" in result.summary
    assert run.result(max_calls=5).verdict is Verdict.PASS


QUOTA = "provider: error 429 insufficient_quota"


def test_no_retry_permanent_fails_on_a_retried_quota_error_and_a_500() -> None:
    run = Run("resilience.no_retry_permanent", "{error: 429, code: insufficient_quota}")
    covered(run)
    retried = run.request(11, [{"status": 429, "fault": QUOTA}] * 3, "unsafe", status=500)
    result = run.result()
    assert result.verdict is Verdict.FAIL
    assert "1 of 1 requests were retried" in result.summary and retried in result.summary
    assert result.evidence.numbers["calls_per_request"] == {"429": 3}


def test_no_retry_permanent_passes_one_call_and_a_degraded_answer() -> None:
    run = Run("resilience.no_retry_permanent", "{error: 400}")
    covered(run)
    run.request(11, [{"status": 400, "fault": "provider: error 400"}], "degraded")
    assert run.result().verdict is Verdict.PASS
    # A plain 400 passed to the user is clean only when the scenario accepts it.
    run.request(12, [{"status": 400, "fault": "provider: error 400"}], "error", status=400)
    assert run.result().verdict is Verdict.FAIL
    assert run.result(accepted_status=[400]).verdict is Verdict.PASS


WAIT = "{error: 429, retry_after: 1.5s, first_attempt: true}"


def test_retry_after_fails_a_retry_that_comes_early_and_reports_the_gap() -> None:
    run = Run("resilience.retry_after", WAIT)
    covered(run)
    early = run.request(11, [{"status": 429, "retry_after": 2.0, "gap": 1.5}, {}])
    run.request(13, [{"status": 429, "retry_after": 2.0, "gap": 2.05}, {}])
    result = run.result()
    assert result.verdict is Verdict.FAIL
    assert early in result.summary and "1.50s" in result.summary
    assert result.evidence.numbers["shortest_gap_s"] == 1.5
    assert result.evidence.numbers["asked_s"] == 2.0


def test_retry_after_passes_when_retries_wait_and_when_nothing_is_retried() -> None:
    run = Run("resilience.retry_after", WAIT)
    covered(run)
    run.request(11, [{"status": 429, "retry_after": 2.0, "gap": 2.01}, {}])
    assert run.result().verdict is Verdict.PASS
    quiet = Run("resilience.retry_after", WAIT)
    covered(quiet)
    quiet.request(11, [{"status": 429, "retry_after": 2.0}], "degraded")
    result = quiet.result()
    assert result.verdict is Verdict.PASS and "no request was retried" in result.summary


def test_bad_output_fails_a_cut_answer_passed_on_and_a_500() -> None:
    run = Run("resilience.bad_output", "{behaviour: length}")
    covered(run)
    cut = run.request(11, [{"finish_reason": "length", "planted": {"bad_output": "length"}}])
    crash = run.request(
        12, [{"planted": {"bad_output": "invalid_json"}}], "error", status=500, detail="HTTP 500"
    )
    run.request(13, [{"finish_reason": "length"}], "degraded")
    result = run.result()
    assert result.verdict is Verdict.FAIL and result.evidence.numbers["passed_on"] == 2
    assert set(result.evidence.examples) == {cut, crash}
    assert result.evidence.numbers["by_kind"]["length"] == {"requests": 2, "passed_on": 1}


def test_bad_output_passes_when_a_retry_got_a_good_answer_or_the_fallback() -> None:
    run = Run("resilience.bad_output", "{behaviour: empty}")
    covered(run)
    run.request(11, [{"planted": {"bad_output": "empty"}}, {}])  # the retry answered well
    run.request(12, [{"planted": {"bad_output": "empty"}}], "degraded")
    result = run.result()
    assert result.verdict is Verdict.PASS and result.evidence.numbers["requests"] == 1


STREAM = TargetFile.model_validate(
    {"name": "s", "request": {"url": "http://x/chat"}, "response": {"stream": {}}}
)


def test_stream_integrity_fails_a_cut_stream_shown_as_complete_or_silently_ended() -> None:
    run = Run("resilience.stream_integrity", "{stream: cut}", STREAM)
    covered(run)
    cut = "provider: stream cut after 5 tokens"
    whole = run.request(11, [{"stream": True, "fault": cut}], "ok", stream_end="done")
    silent = run.request(12, [{"stream": True, "fault": cut}], "error", stream_end="cut", chunks=3)
    run.request(13, [{"stream": True, "fault": cut}], "error", stream_end="error_event")
    result = run.result()
    assert result.verdict is Verdict.FAIL
    assert set(result.evidence.examples) == {whole, silent}
    assert result.evidence.numbers["stream_ends"] == {"done": 1, "cut": 1, "error_event": 1}


def test_stream_integrity_needs_a_streamed_target_and_fails_a_slow_stall() -> None:
    chat = TargetFile.model_validate({"name": "c", "request": {"url": "http://x/chat"}})
    assert Run("resilience.stream_integrity", "{stream: cut}", chat).result().verdict is (
        Verdict.NOT_RUN
    )
    run = Run("resilience.stream_integrity", "{stream: stall}", STREAM)
    covered(run)
    stall = "provider: stream stall after 5 tokens"
    run.request(11, [{"stream": True, "fault": stall, "gap": 12}], "error",
                stream_end="error_event")  # fmt: skip
    result = run.result()
    assert result.verdict is Verdict.FAIL and "SLA 10s" in result.summary


CONTRACT = TargetFile.model_validate(
    {"name": "j", "request": {"url": "http://x/triage"},
     "response": {"contract": {"required": ["category"]}}}
)  # fmt: skip


def test_model_pinned_fails_an_alias_and_an_answer_off_contract_after_a_swap() -> None:
    run = Run("resilience.model_pinned", "{model_swap: gpt-4.1-mini}", CONTRACT)
    covered(run)
    run.request(1, [{"model_requested": "gpt-4o-mini", "model_served": "gpt-4o-mini-2024-07-18"}])
    off = run.request(
        11,
        [{"model_requested": "gpt-4o-mini", "model_served": "gpt-4.1-mini-2025-04-14"}],
        "error",
        detail="off contract: missing category",
    )
    result = run.result()
    assert result.verdict is Verdict.FAIL
    assert "floating alias (gpt-4o-mini)" in result.summary and off in result.summary
    assert result.evidence.numbers["models_served"] == {
        "gpt-4o-mini-2024-07-18": 1,
        "gpt-4.1-mini-2025-04-14": 1,
    }


def test_model_pinned_passes_a_dated_id_whose_swapped_answers_degrade() -> None:
    run = Run("resilience.model_pinned", "{model_swap: gpt-4.1-mini}", CONTRACT)
    covered(run)
    run.request(1, [{}])
    run.request(11, [{"model_served": "gpt-4.1-mini-2025-04-14"}], "degraded")
    result = run.result()
    assert result.verdict is Verdict.PASS, result.summary
    assert result.evidence.numbers["swapped_requests"] == 1
