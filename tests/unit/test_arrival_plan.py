"""The open-model schedule: k6's constant- and ramping-arrival-rate plus per-phase rates."""

from __future__ import annotations

import itertools

import pytest

from gaplab.errors import InputError
from gaplab.load.arrival_plan import ArrivalPlan
from gaplab.scenario.load_models import LoadSpec
from gaplab.scenario.loader import validate_text
from gaplab.scenario.models import Scenario


def _offsets(plan: ArrivalPlan, until: float) -> list[float]:
    return list(itertools.takewhile(lambda t: t < until, plan.offsets()))


def _count(offsets: list[float], start: float, end: float) -> int:
    return sum(1 for t in offsets if start <= t < end)


def test_a_constant_rate_spaces_arrivals_evenly_from_the_timeline_start() -> None:
    plan = ArrivalPlan.build(LoadSpec(arrival=30), [(10, None)])
    offsets = _offsets(plan, 10)
    assert len(offsets) == 300
    assert offsets[:3] == pytest.approx([0.0, 1 / 30, 2 / 30])
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(offsets)}
    assert gaps == {round(1 / 30, 9)}


def test_a_phase_rate_overrides_the_load_rate_for_that_phase_only() -> None:
    plan = ArrivalPlan.build(LoadSpec(arrival=30), [(10, None), (15, 90), (20, None)])
    offsets = _offsets(plan, 45)
    assert _count(offsets, 0, 10) == 300
    assert _count(offsets, 10, 25) == 1350
    assert _count(offsets, 25, 45) == 600
    # the last phase's rate holds after the timeline (the engine stops the users anyway)
    assert plan.rate_at(100) == 30


def test_stages_ramp_linearly_then_hold_the_last_target() -> None:
    load = LoadSpec.model_validate(
        {"arrival": 10, "stages": [{"target": "50/s", "for": "4s"}, {"target": 50, "for": 2}]}
    )
    plan = ArrivalPlan.build(load, [(10, None)])
    assert plan.rate_at(0) == 10
    assert plan.rate_at(2) == pytest.approx(30)
    assert plan.rate_at(5) == 50
    assert plan.rate_at(9) == 50
    offsets = _offsets(plan, 10)
    # the integral: (10 + 50) / 2 * 4 = 120 in the ramp, then 50/s for 6 s = 300
    assert _count(offsets, 0, 4) == pytest.approx(120, abs=1)
    assert _count(offsets, 4, 10) == pytest.approx(300, abs=1)
    ramp_gaps = [b - a for a, b in itertools.pairwise(offsets) if b < 4]
    assert ramp_gaps == sorted(ramp_gaps, reverse=True)  # ever closer as the rate rises


def test_a_ramp_down_to_zero_ends_the_arrivals() -> None:
    stages = [{"target": 10, "for": 10}, {"target": 0, "for": 10}]
    load = LoadSpec.model_validate({"stages": stages})
    offsets = list(ArrivalPlan.build(load, [(30, None)]).offsets())
    assert len(offsets) == 100  # 50 + 50 arrivals, the first one at 0
    assert offsets[-1] == pytest.approx(20 - 2**0.5)  # the last unit of area: (20 - t)² / 2 = 1


def test_a_phase_at_rate_zero_pauses_without_losing_or_doubling_an_arrival() -> None:
    plan = ArrivalPlan.build(LoadSpec(arrival=4), [(1, None), (2, 0), (1, None)])
    offsets = _offsets(plan, 4)
    assert offsets == pytest.approx([0, 0.25, 0.5, 0.75, 3.0, 3.25, 3.5, 3.75])


def test_expected_arrivals_match_the_schedule_at_any_rate_change() -> None:
    stages = [{"target": 33, "for": 3}, {"target": 5, "for": 4}]
    load = LoadSpec.model_validate({"arrival": 7, "stages": stages})
    plan = ArrivalPlan.build(load, [(2, None), (3, 60), (6, None)])
    offsets = _offsets(plan, 11)
    for start, end in [(0, 2), (2, 5), (5, 11), (0, 11)]:
        assert _count(offsets, start, end) == pytest.approx(plan.expected(start, end), abs=1)


SCENARIO = """\
version: 1
name: mixed
title: mixed
load: {load}
phases:
  - {{name: a, for: 2s}}
  - {{name: b, for: 2s, {phase}}}
"""


def test_a_phase_arrival_needs_open_load_and_says_where() -> None:
    text = SCENARIO.format(load="{users: 10}", phase="arrival: 90/s")
    with pytest.raises(InputError) as caught:
        validate_text(text, "mixed.yaml", Scenario)
    assert str(caught.value).startswith("mixed.yaml:7:24: phases[1].arrival: a phase arrival")
    assert "load.arrival" in str(caught.value)


def test_under_open_load_a_phase_sets_its_arrival_not_users() -> None:
    text = SCENARIO.format(load="{arrival: 30/s}", phase="users: 40")
    with pytest.raises(InputError) as caught:
        validate_text(text, "mixed.yaml", Scenario)
    assert "phases[1].users: under open load" in str(caught.value)
    fine = validate_text(
        SCENARIO.format(load="{arrival: 30/s}", phase="arrival: 90/s"), "m", Scenario
    )
    assert fine.phases[1].arrival == 90 and fine.load.open
