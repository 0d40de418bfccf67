"""The cost checks on synthetic records: each is `not_run`, saying what to add, when its
inputs were not sent or its budget is not declared; each decides on the numbers; and the
helpers (Theil-Sen slope, the last user message's tokens) are exact."""

from __future__ import annotations

from typing import Any

import pytest

from gaplab.checks.base import CheckContext, Verdict
from gaplab.checks.cost.common import last_user_tokens, theil_sen
from gaplab.checks.registry import CHECKS, evaluate
from gaplab.engine.events import PhaseEnded, PhaseStarted, ProviderCallRecorded, UserRequestFinished
from gaplab.engine.record import RunRecord
from gaplab.load.greedy import GREEDY_USER
from gaplab.provider.journal import ProviderCall
from gaplab.provider.tokens import count_messages
from gaplab.scenario.models import Scenario
from gaplab.scenario.target_models import TargetFile

TARGET = TargetFile.model_validate(
    {
        "name": "t",
        "request": {"url": "http://x/chat"},
        "limits": {"input_tokens": 8_000, "output_tokens": 400},
        "budget": {"per_user_tokens_per_minute": 20_000},
    }
)


def scenario(checks: list[Any], **load: Any) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "s",
            "title": "s",
            "load": load,
            "phases": [{"name": "p", "for": "60s"}],
            "checks": checks,
        }
    )


class Run:
    def __init__(self) -> None:
        self.record = RunRecord()
        self.record(
            PhaseStarted(t=0, phase="p", index=0, duration=60, faults=(), outage=False, slow=0)
        )
        self.n = 0

    def ask(self, *, calls: list[dict[str, Any]] = (), **fields: Any) -> str:  # type: ignore[assignment]
        self.n += 1
        rid = f"user-0001-{self.n:06d}"
        t = fields.pop("t", float(self.n) / 10)
        for index, call in enumerate(calls):
            values: dict[str, Any] = {
                "call_id": f"c{self.n}-{index}",
                "dialect": "openai",
                "path": "/v1/chat/completions",
                "t_arrival": t,
                "t_first_byte": t,
                "t_end": t + 0.1,
                "status": 200,
                "outcome": "completed",
                "model_served": "gpt-4o-mini-2024-07-18",
                "finish_reason": "stop",
                "correlation": {"x-request-id": rid},
                "tokens_in": 100,
                "tokens_out": 50,
                "max_tokens": 400,
                **call,
            }
            self.record(ProviderCallRecorded(t=t, call=ProviderCall(**values)))
        values = {
            "t": t + 0.2,
            "request_id": rid,
            "user": "user-0001",
            "phase": "p",
            "started": t,
            "latency": 0.2,
            "outcome": "ok",
            "status": 200,
            **fields,
        }
        self.record(UserRequestFinished(**values))
        return rid

    def decide(self, checks: list[Any], target: TargetFile | None = TARGET, **load: Any) -> Any:
        self.record(PhaseEnded(t=60, phase="p", index=0))
        ctx = CheckContext(scenario(checks, **load), self.record, 10.0, target=target)
        return {r.id: r for r in evaluate(ctx)}


def test_every_cost_check_says_what_to_add_when_its_inputs_were_not_sent() -> None:
    run = Run()
    for _ in range(12):
        run.ask(calls=[{}], input_kind="questions")
    ids = [c for c in CHECKS if c.startswith("cost.")]
    results = run.decide(ids, target=None)
    reasons = {i: (results[i].verdict, results[i].summary) for i in ids}
    assert {i for i, (v, _) in reasons.items() if v is not Verdict.NOT_RUN} == {"cost.output_cap"}
    assert "no input above the 8,000-token cap was sent" in reasons["cost.input_limit"][1]
    assert "documents of 50 pages" in reasons["cost.input_limit"][1]
    assert "repeated questions" in reasons["cost.cache"][1]
    assert "no conversation was sent" in reasons["cost.prompt_growth"][1]
    assert reasons["cost.per_request"][1].startswith("declare budget.per_request_usd")
    assert "no greedy user was sent" in reasons["cost.budget_enforced"][1]
    # The output cap needs only calls: these all set max_tokens 400 under no declared cap.
    assert results["cost.output_cap"].verdict is Verdict.PASS


def test_input_limit_decides_each_oversized_input_by_what_reached_the_provider() -> None:
    run = Run()
    for _ in range(12):
        run.ask(calls=[{}], input_kind="questions")
    refused = run.ask(input_kind="documents", input_tokens=25_000, status=413, outcome="error")
    document = "word " * 8_000
    messages = ({"role": "system", "content": "Be brief."}, {"role": "user", "content": document})
    cut = run.ask(
        calls=[{"messages": messages, "tokens_in": count_messages(messages)}],
        input_kind="documents",
        input_tokens=25_000,
    )
    whole = run.ask(
        calls=[{"tokens_in": 25_060, "messages": ({"role": "user", "content": "x"},)}],
        input_kind="documents",
        input_tokens=25_000,
    )
    throttled = run.ask(input_kind="documents", input_tokens=25_000, status=429, outcome="error")
    result = run.decide(["cost.input_limit"])["cost.input_limit"]
    numbers = result.evidence.numbers
    assert result.verdict is Verdict.FAIL
    assert (numbers["refused_fast"], numbers["cut_to_cap"], numbers["sent_whole"]) == (1, 1, 1)
    assert numbers["throttled_429"] == 1 and numbers["provider_saw_max_tokens"] == 25_060
    assert set(result.evidence.examples) == {whole, throttled}
    assert refused not in result.evidence.examples and cut not in result.evidence.examples
    assert result.evidence.margin == pytest.approx(-0.5)  # 2 of 4 inputs


def test_prompt_growth_fits_the_late_turns_and_per_request_needs_a_budget() -> None:
    run = Run()
    for conversation in ("a", "b", "c"):
        for turn in range(1, 21):
            # Grows by 60 a turn up to turn 7, then stays (a bounded history), one odd turn.
            prompt = 100 + 60 * min(turn, 7) + (400 if turn == 15 else 0)
            run.ask(
                calls=[{"tokens_in": prompt}],
                input_kind="conversation",
                conversation=conversation,
                turn=turn,
            )
    results = run.decide(["cost.prompt_growth", {"cost.per_request": {"per_request_usd": 1e-6}}])
    growth = results["cost.prompt_growth"]
    assert growth.verdict is Verdict.PASS, growth.summary
    assert growth.evidence.numbers["late_slope_tokens_per_turn"] == 0
    assert growth.evidence.numbers["last_turn_tokens"] == 520
    per = results["cost.per_request"]
    # 100 in, 50 out at gpt-4o-mini prices is more than a millionth of a dollar.
    assert per.verdict is Verdict.FAIL and per.evidence.numbers["budget_usd"] == 1e-6
    assert per.evidence.numbers["over_budget"] == 60


def test_budget_enforced_counts_the_greedy_users_tokens_in_a_sliding_minute() -> None:
    run = Run()
    for n in range(30):
        run.ask(calls=[{}], user="user-0002")  # an ordinary user, all ok
        run.ask(calls=[{"tokens_in": 900, "tokens_out": 100}], user=GREEDY_USER, t=n)
    for n in range(20):
        run.ask(user=GREEDY_USER, status=429, outcome="error", t=30 + n)
    greedy = {"sessions": 4}
    result = run.decide(["cost.budget_enforced"], greedy=greedy)["cost.budget_enforced"]
    numbers = result.evidence.numbers
    # 30 answered requests of 1,000 tokens within a minute: 30,000 > 20,000 + 25 %.
    assert numbers["upstream_tokens_per_minute_max"] == 30_000
    assert result.verdict is Verdict.FAIL and numbers["greedy_throttled"] == 20
    assert result.evidence.margin == pytest.approx((25_000 - 30_000) / 25_000)


def test_theil_sen_ignores_an_outlier_and_the_last_message_is_counted_apart() -> None:
    points = [(t, 10.0 * t) for t in range(1, 11)]
    points[4] = (5, 500.0)
    assert theil_sen(points) == pytest.approx(10.0)
    assert theil_sen([(1, 1.0)]) is None
    messages = (
        {"role": "system", "content": "You are the support assistant."},
        {"role": "user", "content": "Earlier question"},
        {"role": "assistant", "content": "Earlier answer"},
        {"role": "user", "content": "The new message, which is a bit longer than the rest."},
    )
    call = ProviderCall(
        call_id="c",
        dialect="openai",
        path="/v1/chat/completions",
        t_arrival=0,
        t_first_byte=0,
        t_end=0,
        status=200,
        outcome="completed",
        messages=messages,
        tokens_in=count_messages(messages),
    )
    assert last_user_tokens(call) == count_messages(messages[-1:]) - 6
