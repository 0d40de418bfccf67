"""The lab prices a run itself, from the provider profile's price table: a synthetic journal
priced by hand (input, cached input, output; retries; a refused call; an alias; an unknown
model), the per-request figures, the projections and the prompt tokens per turn."""

from __future__ import annotations

from typing import Any

import pytest

from gaplab.engine.events import PhaseEnded, PhaseStarted, ProviderCallRecorded, UserRequestFinished
from gaplab.engine.record import RunRecord
from gaplab.metrics.cost import (
    Price,
    PriceTable,
    billed,
    call_cost,
    projection,
    request_costs,
    tokens_per_minute,
)
from gaplab.metrics.prices import declared_budget, prices_for
from gaplab.provider.journal import ProviderCall
from gaplab.provider.profiles import load_profile
from gaplab.report.series import run_cost
from gaplab.scenario.target_models import TargetFile

PRICES = PriceTable.from_profile(load_profile("openai"))


def call(n: int, request: str, **fields: Any) -> ProviderCall:
    values: dict[str, Any] = {
        "call_id": f"c{n}",
        "dialect": "openai",
        "path": "/v1/chat/completions",
        "t_arrival": 1.0 + n,
        "t_first_byte": 1.1 + n,
        "t_end": 1.2 + n,
        "status": 200,
        "outcome": "completed",
        "model_requested": "gpt-4o-mini",
        "model_served": "gpt-4o-mini-2024-07-18",
        "finish_reason": "stop",
        "correlation": {"x-request-id": request},
        **fields,
    }
    return ProviderCall(**values)


def request(request_id: str, **fields: Any) -> UserRequestFinished:
    values: dict[str, Any] = {
        "t": 20.0,
        "request_id": request_id,
        "user": "user-0001",
        "phase": "run",
        "started": 1.0,
        "latency": 0.5,
        "outcome": "ok",
        "status": 200,
        **fields,
    }
    return UserRequestFinished(**values)


def journal() -> RunRecord:
    record = RunRecord()
    record(
        PhaseStarted(t=0.0, phase="run", index=0, duration=60.0, faults=(), outage=False, slow=0)
    )
    calls = [
        # r1: 1,000 prompt tokens of which 256 cached, 200 out.
        call(1, "r1", tokens_in=1_000, tokens_cached=256, tokens_out=200),
        # r2: a 503 (not billed), then the retry that answered.
        call(2, "r2", status=503, outcome="error", finish_reason=None, tokens_in=50),
        call(3, "r2", tokens_in=50, tokens_out=10),
        # r3: refused for its size: the provider counted 130,000 tokens and billed nothing.
        call(4, "r3", status=400, outcome="error", finish_reason=None, tokens_in=130_000),
        # r4: the bigger model by its alias; r5: an unknown id, answered by the default.
        call(
            5,
            "r4",
            model_requested="gpt-4o",
            model_served="gpt-4o-2024-08-06",
            tokens_in=100,
            tokens_out=100,
        ),
        call(6, "r5", model_requested="my-model", model_served="my-model", tokens_in=100),
        # A call tied to no request (no correlation, no reference), and a streamed answer
        # the client left before reading: generated, so billed.
        call(7, "", correlation={}, tokens_in=10, tokens_out=10),
        call(8, "r6", status=0, outcome="client_disconnected", tokens_in=20, tokens_out=400),
    ]
    for c in calls:
        record(ProviderCallRecorded(t=c.t_end, call=c))
    for rid in ("r1", "r2", "r3", "r4", "r5", "r6"):
        record(request(rid))
    record(request("r7", turn=0))  # answered without any call (a cached answer)
    record(PhaseEnded(t=60.0, phase="run", index=0))
    return record


# By hand, USD per million: gpt-4o-mini 0.15 in / 0.075 cached / 0.60 out; gpt-4o 2.50 / 10.
R1 = (744 * 0.15 + 256 * 0.075 + 200 * 0.60) / 1e6  # 250.8e-6
R2 = (50 * 0.15 + 10 * 0.60) / 1e6  # the retry only
R4 = (100 * 2.50 + 100 * 10.00) / 1e6
R5 = 100 * 0.15 / 1e6
UNJOINED = (10 * 0.15 + 10 * 0.60) / 1e6
R6 = (20 * 0.15 + 400 * 0.60) / 1e6


def test_a_journal_priced_by_hand_against_the_profile_table() -> None:
    record = journal()
    costs = {c.request_id: c for c in request_costs(record, PRICES)}
    assert costs["r1"].usd == pytest.approx(R1, abs=1e-15)
    assert pytest.approx(250.8e-6) == R1
    assert costs["r2"].usd == pytest.approx(R2, abs=1e-15) and costs["r2"].calls == 2
    assert costs["r3"].usd == 0 and costs["r3"].prompt_tokens == 130_000
    assert costs["r4"].usd == pytest.approx(R4, abs=1e-15)
    assert costs["r5"].usd == pytest.approx(R5, abs=1e-15)
    assert costs["r6"].usd == pytest.approx(R6, abs=1e-15)
    assert costs["r7"].usd == 0 and costs["r7"].calls == 0
    assert [billed(c) for c in record.calls] == [True, False, True, False, True, True, True, True]


def test_the_cost_section_totals_projects_and_names_its_prices() -> None:
    record = journal()
    target = TargetFile.model_validate(
        {"name": "t", "request": {"url": "http://x/chat"}, "budget": {"daily_requests": 20_000}}
    )
    section = run_cost(record, PRICES, declared_budget(target))
    assert section is not None
    total = R1 + R2 + R4 + R5 + UNJOINED + R6
    assert section["total_usd"] == pytest.approx(total, abs=1e-15)
    assert section["priced_by"] == "openai profile"
    assert section["unjoined_calls"] == 1
    assert section["unjoined_usd"] == pytest.approx(UNJOINED, abs=1e-15)
    assert section["tokens"] == {
        "in": 1_000 + 50 + 100 + 100 + 10 + 20,
        "cached": 256,
        "out": 200 + 10 + 100 + 10 + 400,
        "billed_calls": 6,
        "refused_calls": 2,
        "refused_in": 50 + 130_000,
    }
    per = section["per_request"]
    values = sorted([R1, R2, 0.0, R4, R5, R6, 0.0])
    assert per["requests"] == 7
    assert per["mean_usd"] == pytest.approx(sum(values) / 7, abs=1e-15)
    assert per["p50_usd"] == pytest.approx(values[3]) and per["max_usd"] == pytest.approx(R4)
    assert per["p95_usd"] == pytest.approx(values[6])  # nearest rank of 7: the 7th
    spend = section["spend"]
    assert spend["seconds"] == 60.0
    assert spend["usd_per_hour"] == pytest.approx(total * 60)
    assert spend["at_volume"]["volume"] == 10
    assert spend["at_volume"]["usd_per_hour"] == pytest.approx(total * 600)
    assert spend["at_volume"]["usd_per_month"] == pytest.approx(total * 10 * 1440 * 30)
    assert spend["at_volume"]["requests_per_second"] == pytest.approx(7 / 60 * 10)
    assert spend["monthly"]["usd_per_month"] == pytest.approx(total / 7 * 20_000 * 30)
    assert section["budget"]["daily_requests"] == 20_000


def test_without_a_table_the_journal_dollars_are_used() -> None:
    priced = call(1, "r1", tokens_in=1_000, tokens_out=10, cost_usd=0.5)
    assert call_cost(priced, None) == 0.5
    assert call_cost(priced, PRICES) == pytest.approx((1_000 * 0.15 + 10 * 0.6) / 1e6)
    assert prices_for("no-such-profile") is None
    assert prices_for("openai") == PRICES


def test_a_model_without_cached_price_bills_cached_tokens_as_input() -> None:
    price = Price(input=0.5, output=1.5)
    assert price.of(1_000, 0, 512) == price.of(1_000, 0, 0) == 1_000 * 0.5 / 1e6


def test_projection_needs_a_duration_and_the_monthly_one_a_daily_volume() -> None:
    none = projection(1.0, 10, 0.0)
    assert none["usd_per_hour"] is None and none["at_volume"]["usd_per_month"] is None
    assert projection(1.0, 10, 10.0)["monthly"] is None


def test_the_most_tokens_in_any_minute_slide_with_the_calls() -> None:
    calls = [(0.0, 5_000), (30.0, 5_000), (59.0, 5_000), (61.0, 5_000), (130.0, 100)]
    # 0-59 holds 15,000; 30-61 holds 15,000 too (0 has left the window at 61).
    assert tokens_per_minute(calls) == (15_000, 59.0)
    assert tokens_per_minute([]) == (0, None)
    assert tokens_per_minute([(0.0, 1), (60.0, 1)]) == (1, 0.0)  # a minute later: out


def test_the_budget_comes_from_the_target_then_the_scenarios_cost_options() -> None:
    target = TargetFile.model_validate(
        {"name": "t", "request": {"url": "http://x/chat"}, "budget": {"per_request_usd": 0.01}}
    )
    options = [{"per_request_usd": 0.5, "daily_requests": 100}]
    budget = declared_budget(target, options)
    assert (budget.per_request_usd, budget.daily_requests) == (0.01, 100)
    assert declared_budget(None, options).per_request_usd == 0.5
    assert declared_budget(None).per_request_usd is None
