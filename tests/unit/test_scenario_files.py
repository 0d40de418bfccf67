"""Scenario files: durations, strict models, and errors that name file, line and field."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gaplab.errors import InputError
from gaplab.scenario.durations import parse_duration, parse_size
from gaplab.scenario.library import bundled_scenarios, load_scenario
from gaplab.scenario.loader import load_model, validate_text
from gaplab.scenario.models import Scenario

GOOD = """\
version: 1
name: outage
title: An outage
load: {users: 5, think: 200ms}
phases:
  - {name: baseline, for: 3s}
  - name: outage
    for: 5s
    faults:
      - provider: {error: 503, retry_after: 2s}
checks: [resilience.fallback, {resilience.recovery: {within: 3s}}]
"""


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("200ms", 0.2), ("15s", 15.0), ("2m", 120.0), ("1.5s", 1.5), (3, 3.0), ("250us", 0.00025)],
)
def test_durations(text: object, seconds: float) -> None:
    assert math.isclose(parse_duration(text), seconds)


@pytest.mark.parametrize("text", ["fast", "-1s", "10 parsecs", True, None])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_sizes() -> None:
    assert parse_size("50kb") == 50_000
    assert parse_size("2MiB") == 2 * 1024 * 1024
    assert parse_size(512) == 512


def test_good_scenario_parses_everything() -> None:
    scenario = validate_text(GOOD, "s.yaml", Scenario)
    assert scenario.load.think == pytest.approx(0.2)
    assert scenario.phases[1].duration == 5.0
    fault = scenario.phases[1].faults[0].provider
    assert fault is not None and fault.error == 503 and fault.retry_after == 2.0
    assert [c.id for c in scenario.checks] == ["resilience.fallback", "resilience.recovery"]
    assert scenario.checks[1].options == {"within": "3s"}
    assert scenario.duration == 8.0


def _problems(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        validate_text(text, "s.yaml", Scenario)
    return [str(p) for p in info.value.problems]


def test_misspelt_field_names_file_line_column_and_field() -> None:
    problems = _problems(GOOD.replace("retry_after", "retry_aftr"))
    assert problems == [
        "s.yaml:10:32: phases[1].faults[0].provider.retry_aftr: unknown field "
        "(check the spelling; see docs/scenarios.md)"
    ]


def test_bad_duration_is_located_at_the_value() -> None:
    (problem,) = _problems(GOOD.replace("for: 5s", "for: soon"))
    assert problem.startswith("s.yaml:8:5: phases[1].for: ")
    assert "not a duration" in problem


def test_missing_required_field() -> None:
    (problem,) = _problems(GOOD.replace("title: An outage\n", ""))
    assert problem == "s.yaml: title: required field is missing" or problem.startswith(
        "s.yaml:1:1: title: required field is missing"
    )


def test_yaml_syntax_error_is_located() -> None:
    (problem,) = _problems(GOOD.replace("phases:", "phases: [", 1))
    assert problem.startswith("s.yaml:") and "YAML syntax" in problem


def test_duplicate_keys_are_refused() -> None:
    (problem,) = _problems(GOOD.replace("title: An outage", "title: A\ntitle: B"))
    assert problem.startswith("s.yaml:4:1: title: duplicate key")


def test_fault_must_be_provider_or_network() -> None:
    text = GOOD.replace("- provider: {error: 503, retry_after: 2s}", "- {}")
    (problem,) = _problems(text)
    assert "exactly one" in problem and problem.startswith("s.yaml:10:9:")


def test_provider_fault_needs_an_effect() -> None:
    (problem,) = _problems(GOOD.replace("{error: 503, retry_after: 2s}", "{probability: 0.5}"))
    assert "needs one of: error, latency, hang" in problem


def test_unique_phase_names() -> None:
    (problem,) = _problems(GOOD.replace("name: outage\n    for", "name: baseline\n    for"))
    assert "phase names must be unique" in problem


def test_unknown_check_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD.replace("resilience.fallback", "resilience.falback"))
    with pytest.raises(InputError) as info:
        load_scenario(str(path))
    assert "unknown check 'resilience.falback'" in str(info.value)


def test_bad_check_option_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD.replace("within: 3s", "withn: 3s"))
    with pytest.raises(InputError) as info:
        load_scenario(str(path))
    assert "checks[1].resilience.recovery.withn" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_model(tmp_path / "nope.yaml", Scenario)
    assert "no such file" in str(info.value)


def test_every_bundled_scenario_is_valid_and_short() -> None:
    bundled = bundled_scenarios()
    assert {"outage", "hang", "rate_limit"} <= set(bundled)
    for name in bundled:
        scenario, _ = load_scenario(name)
        assert scenario.duration < 60, name
        assert scenario.checks, name


def test_bundled_scenario_by_name_or_repo_path() -> None:
    by_name, path = load_scenario("outage")
    by_path, _ = load_scenario("scenarios/outage.yaml")
    assert by_name == by_path and path.name == "outage.yaml"
