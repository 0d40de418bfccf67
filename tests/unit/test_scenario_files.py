"""Scenario files: durations, strict models, and errors that name file, line and field."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import pytest

from gaplab.errors import InputError
from gaplab.scenario.durations import parse_duration, parse_rate, parse_size
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


# --- bad input never escapes: whatever the bytes, an InputError located in the file ---

MINIMAL = "version: 1\nname: t\ntitle: T\nphases:\n  - {name: a, for: 1s}\n"


def _file_problems(tmp_path: Path, content: bytes | str) -> list[str]:
    path = tmp_path / "s.yaml"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_scenario(str(path))
    return [str(p).replace(str(path), "s.yaml") for p in info.value.problems]


def test_binary_and_non_utf8_files_are_refused_with_their_position(tmp_path: Path) -> None:
    assert _file_problems(tmp_path, b"\xff\xfe\x00binary") == [
        "s.yaml:1:1: not UTF-8 text (byte 0xff): is it a binary file?"
    ]
    (problem,) = _file_problems(tmp_path, MINIMAL.encode() + b"description: caf\xe9\n")
    assert problem.startswith("s.yaml:6:17: not UTF-8 text (byte 0xe9)")
    (problem,) = _file_problems(tmp_path, MINIMAL + "description: a\x00b\n")
    assert problem == "s.yaml:6:15: a NUL byte is not allowed in YAML: is it a binary file?"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_model(tmp_path, Scenario)
    assert str(info.value) == f"{tmp_path}: is a directory, not a file"


def test_control_characters_are_refused_where_they_are(tmp_path: Path) -> None:
    (problem,) = _file_problems(tmp_path, MINIMAL.replace("title: T", 'title: "a\x07b"'))
    assert problem == "s.yaml:3:10: character #x0007 is not allowed in YAML (a control character)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int banana", "seed: 'banana' is not a valid !!int"),
        ("!!bool maybe", "seed: 'maybe' is not a valid !!bool"),
        ("!!timestamp 2020-99-99", "seed: '2020-99-99' is not a valid !!timestamp"),
        ("!!timestamp 1", "seed: '1' is not a valid !!timestamp"),
        ("!!float x", "seed: 'x' is not a valid !!float"),
        ("!!binary AAAA", "seed: binary values (!!binary) are not supported"),
        ("!!python/object:os.system x", "seed: YAML: could not determine a constructor"),
        ("!!set {a, b}", "seed: the tag !!set is not supported on a mapping"),
        ("1" * 5000, "seed: '1111"),  # more digits than Python converts to an int
    ],
)
def test_bad_tags_are_input_errors_at_the_value(tmp_path: Path, value: str, message: str) -> None:
    (problem,) = _file_problems(tmp_path, MINIMAL + f"seed: {value}\n")
    assert problem.startswith(f"s.yaml:6:7: {message}")


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_deep_nesting_is_refused_not_a_recursion_error(
    tmp_path: Path, opening: str, closing: str
) -> None:
    if opening == "- ":  # block style: each level indented under the last
        nested = "".join("  " * level + "-\n" for level in range(500)) + "  " * 500 + "x\n"
        text = MINIMAL + "description:\n" + nested
    else:
        text = MINIMAL + f"description: {opening * 500}1{closing * 500}\n"
    (problem,) = _file_problems(tmp_path, text)
    assert re.fullmatch(r"s\.yaml:\d+:\d+: nested more than 64 levels deep: refused", problem)


def test_a_billion_laughs_is_refused_in_well_under_a_second(tmp_path: Path) -> None:
    lines = ['x-a0: &a0 "lol"']
    for level in range(1, 10):
        lines.append(f"x-a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    text = MINIMAL + "\n".join(lines) + "\ndescription: *a9\n"
    started = time.perf_counter()
    (problem,) = _file_problems(tmp_path, text)
    elapsed = time.perf_counter() - started
    assert problem.startswith("s.yaml:1:1: more than 100000 values once aliases are expanded")
    assert elapsed < 0.25, elapsed


def test_aliases_are_capped_in_number_and_text(tmp_path: Path) -> None:
    many = MINIMAL + "x-a: &a 1\nx-list: [" + ", ".join(["*a"] * 1001) + "]\n"
    (problem,) = _file_problems(tmp_path, many)
    assert problem.endswith("more than 1000 aliases (*name): refused")
    big = "x" * 100_000
    wide = MINIMAL + f"x-a: &a {big}\nx-list: [" + ", ".join(["*a"] * 100) + "]\n"
    (problem,) = _file_problems(tmp_path, wide)
    assert "more than 8388608 characters of text once aliases are expanded" in problem


def test_an_alias_inside_itself_is_refused(tmp_path: Path) -> None:
    (problem,) = _file_problems(tmp_path, MINIMAL + "description: &x [*x]\n")
    assert problem == "s.yaml:6:14: an alias refers to the mapping or list it is in: refused"


MERGED = """\
version: 1
name: t
title: T
x-phase: &phase {for: 2s, users: 3}
phases:
  - {<<: *phase, name: a}
  - <<: [*phase, {for: 9s, name: ignored}]
    name: b
    users: 5
"""


def test_merge_keys_merge_with_the_mappings_own_keys_first() -> None:
    scenario = validate_text(MERGED, "s.yaml", Scenario)
    assert [(p.name, p.duration, p.users) for p in scenario.phases] == [
        ("a", 2.0, 3),
        ("b", 2.0, 5),  # its own users win, then the first merged mapping's `for`
    ]


def test_errors_in_merged_values_point_at_where_they_are_written() -> None:
    # Both phases merge the anchor: both are wrong, and both point at the anchor's line.
    first, second = _problems(MERGED.replace("for: 2s", "for: soon"))
    assert first.startswith("s.yaml:4:18: phases[0].for: 'soon' is not a duration")
    assert second.startswith("s.yaml:4:18: phases[1].for: 'soon' is not a duration")
    (problem,) = _problems(MERGED.replace("users: 5", "users: 5\n    usres: 1"))
    assert problem.startswith("s.yaml:10:5: phases[1].usres: unknown field")
    (problem,) = _problems(MERGED.replace("<<: [*phase", "<<: [7"))
    assert problem == "s.yaml:7:10: phases[1]: `<<` merges a mapping or a list of mappings"


def test_duplicate_own_keys_are_still_refused_next_to_a_merge() -> None:
    (problem,) = _problems(MERGED.replace("users: 5", "users: 5\n    users: 6"))
    assert problem.startswith("s.yaml:10:5: phases[1].users: duplicate key")


def test_timestamps_stay_text() -> None:
    scenario = validate_text(MINIMAL + "description: 2024-05-01\n", "s.yaml", Scenario)
    assert scenario.description == "2024-05-01"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (".inf", "a duration must be finite (and at most 24h)"),
        (".nan", "a duration must be finite (and at most 24h)"),
        ("99999999h", "a duration must be at most 24h"),
        ("25h", "a duration must be at most 24h"),
        ("1" + "0" * 400, "a duration must be finite (and at most 24h)"),  # int: OverflowError
        ("1" + "0" * 400 + "s", "a duration must be finite (and at most 24h)"),
    ],
)
def test_durations_are_finite_and_at_most_a_day(value: str, message: str) -> None:
    (problem,) = _problems(MINIMAL.replace("for: 1s", f"for: {value}"))
    assert problem == f"s.yaml:5:15: phases[0].for: {message}"


def test_duration_limits_at_the_edge() -> None:
    assert parse_duration("24h") == 86_400.0
    assert parse_duration(86_400) == 86_400.0
    with pytest.raises(ValueError, match="at most 24h"):
        parse_duration(86_400.5)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("30/s", 30.0),
        ("1800/m", 30.0),
        ("100000/s", 100_000.0),
        ("0", 0.0),
        ("100001/s", None),
        (".inf", None),
        (float("nan"), None),
        (10**400, None),
        ("1" + "0" * 400 + "/s", None),
        (-1, None),
    ],
)
def test_rates_are_finite_and_bounded(value: object, ok: float | None) -> None:
    if ok is None:
        with pytest.raises(ValueError):
            parse_rate(value)
    else:
        assert parse_rate(value) == ok


def test_sizes_are_finite_and_bounded() -> None:
    assert parse_size("1024GiB") == 2**40
    for value in ("2048GiB", "1" + "0" * 400 + "gb", 2**41):
        with pytest.raises(ValueError):
            parse_size(value)


def test_check_problems_name_line_and_column(tmp_path: Path) -> None:
    text = MINIMAL + (
        "checks:\n"
        "  - resilience.falback\n"
        "  - resilience.recovery: {withn: 3s}\n"
        "  - {id: resilience.recovery, options: {within: soon}}\n"
    )
    problems = _file_problems(tmp_path, text)
    assert problems[0].startswith("s.yaml:7:5: checks[0]: unknown check 'resilience.falback'")
    assert problems[1] == (
        "s.yaml:8:27: checks[1].resilience.recovery.withn: "
        "unknown field (check the spelling; see docs/scenarios.md)"
    )
    assert problems[2].startswith("s.yaml:9:41: checks[2].resilience.recovery.within: ")


def test_an_unknown_provider_profile_is_found_at_load_time(tmp_path: Path) -> None:
    (problem,) = _file_problems(tmp_path, MINIMAL + "provider: no-such-profile\n")
    assert problem.startswith(
        "s.yaml:6:1: provider: provider profile 'no-such-profile': no such provider profile"
    )


def test_top_level_x_keys_are_ignored_everywhere_else_is_strict() -> None:
    validate_text(MINIMAL + "x-notes: {anything: [1, 2]}\n", "s.yaml", Scenario)
    (problem,) = _problems(MINIMAL + "notes: 1\n")
    assert problem.startswith("s.yaml:6:1: notes: unknown field")


def test_odd_keys_are_quoted_in_the_field_name() -> None:
    (problem,) = _problems(MINIMAL + '"\\r": 1\n')
    assert problem.startswith('s.yaml:6:1: ["\\r"]: unknown field')
