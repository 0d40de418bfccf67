"""Fuzzing the input path: whatever bytes a scenario or target file holds, loading and
validating it (both models, the check registry, the target checks, the profile and the
default target a scenario names) raises nothing but `InputError`, and every problem in the
file names its line and column.

Documents start from the bundled scenarios and a target file and are mutated at three
levels: the data (keys renamed, dropped or added, values of other types and edge values),
the YAML text (tags, anchors, aliases and alias bombs, merge keys, deep nesting, broken
syntax) and the bytes (invalid UTF-8, control characters). Seeded (`derandomize`), so a
failure reproduces; the example counts are asserted, so the test cannot run empty.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaplab.errors import InputError, Problem
from gaplab.resources import bundled_dir
from gaplab.scenario.library import check_scenario, resolve_scenario_target
from gaplab.scenario.loader import read_document
from gaplab.scenario.models import Scenario
from gaplab.scenario.target_models import TargetFile
from gaplab.target.resolve import check_target

TARGET = """\
version: 1
name: support-bot
start:
  command: uvicorn app:app --port {port}
  env: {OPENAI_BASE_URL: "{provider.openai_base_url}"}
  ready: {http: GET /health, within: 20s}
request:
  url: "http://127.0.0.1:{port}/chat"
  json: {message: "{input}", user_id: "{user}", options: {stream: false}}
  headers: {X-User: "{user}"}
response:
  answer: $.data.answer
  degraded: {status: [503], contains: ["temporarily unavailable"], header: {X-Degraded: "1"}}
  refusal: {field: $.refused}
  disclosure: {header: X-AI}
non_ai_endpoints: ["GET /health", {http: GET /notes/1, headers: {Authorization: x}}]
sla: 4s
"""

SEEDS: list[str] = [
    *(path.read_text(encoding="utf-8") for path in sorted(bundled_dir("scenarios").glob("*.yaml"))),
    TARGET,
]
SEED_DATA: list[Any] = [yaml.safe_load(text) for text in SEEDS]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {str(k) for k in value}
        for item in value.values():
            found |= _keys(item)
        return found
    if isinstance(value, list):
        return set().union(*(_keys(item) for item in value)) if value else set()
    return set()


KNOWN_KEYS = sorted(set().union(*(_keys(data) for data in SEED_DATA)) | {"<<", "x-base", "id"})
EDGE_STRINGS = [
    ".inf", "-.inf", ".nan", "99999999h", "1e400", "9" * 400, "0s", "-1s", "200ms", "25h",
    "30/s", "1e9/s", "100001/s", "2MiB", "{port}", "{input}", "{nope}", "{provider.openai_url}",
    "python3 -c 'unterminated", "\\", "", " ", "$.answer", "$[", "$.a[x]", "demo:naive",
    "demo:bogus", "demo:hardened?without=nope", "resilience.timeout", "resilience.nope",
    "openai", "no-such-profile", "some/profile.yaml", "2020-01-01", "GET /health", "GETT /x",
    "~", "null", "yes", "on", "<<", "0x1F", "1_000", "0o17", "+.5",
]  # fmt: skip
YAML_TOKENS = [
    "!!int ", "!!bool ", "!!timestamp ", "!!float ", "!!binary ", "!!str ", "!!set ", "!!omap ",
    "!!pairs ", "!!null ", "!!map ", "!!seq ", "!!merge ", "!foo ", "!!python/object:os.system ",
    "&a ", "*a", "*undefined", "<<: *a\n", "<<: [*a, *a]\n", "? ", "- ", ": ", "[", "]", "{",
    "}", ",", "'", '"', "|\n", ">-\n", "\t", "\n", "  ", "#", "%YAML 1.1\n", "---\n", "...\n",
    "\x00", "\x07", "\x1b", "\ufeff", "\u2028", "\U0001f600", "banana", "maybe", "2020-99-99",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(EDGE_STRINGS),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _container(root: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        root = root[step]
    return root


@st.composite
def mutated_data(draw: st.DrawFn) -> str:
    """A seed's data with one to four structural mutations, dumped back to YAML."""
    data = yaml.safe_load(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _container(data, path[:-1])
        op = draw(st.sampled_from(["set", "drop", "add", "rename", "wrap", "repeat"]))
        if op == "set":
            parent[path[-1]] = draw(values)
        elif op == "drop":
            del parent[path[-1]]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KNOWN_KEYS) | st.text(max_size=6))] = draw(values)
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KNOWN_KEYS))] = parent.pop(path[-1])
        elif op == "wrap":
            parent[path[-1]] = draw(st.sampled_from([[parent[path[-1]]], {"x": parent[path[-1]]}]))
        elif op == "repeat" and isinstance(parent, list):
            parent.append(parent[path[-1]])
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=draw(st.booleans())
    )


def _alias_bomb(levels: int, width: int) -> str:
    lines = ['x-a0: &a0 "lol"']
    for level in range(1, levels + 1):
        lines.append(f"x-a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + f"\ndescription: *a{levels}\n"


@st.composite
def mutated_text(draw: st.DrawFn) -> bytes:
    """A seed (or a data-mutated seed) with YAML-level and byte-level damage."""
    text = draw(st.sampled_from(SEEDS) | mutated_data())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["token", "cut", "line", "nest", "bomb", "merge", "tag"]))
        if op == "token":
            text = text[:at] + draw(st.sampled_from(YAML_TOKENS)) + text[at:]
        elif op == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif op == "line":
            lines = text.splitlines(keepends=True) or [""]
            line = draw(st.sampled_from(lines))
            text = text[:at] + line + text[at:]
        elif op == "nest":
            depth = draw(st.integers(1, 600))
            opening, closing = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
            text += f"\nx-deep: {opening * depth}1{closing * depth}\n"
        elif op == "bomb":
            text += "\n" + _alias_bomb(draw(st.integers(2, 9)), draw(st.integers(2, 12)))
        elif op == "merge":
            text = "x-base: &base {name: merged, for: 1s, users: 3}\n" + text.replace(
                "- {name: ", "- {<<: *base, name: ", draw(st.integers(0, 2))
            )
        elif op == "tag":
            tag = draw(st.sampled_from([t for t in YAML_TOKENS if t.startswith("!")]))
            text = re.sub(r": (\S)", f": {tag}\\1", text, count=draw(st.integers(1, 3)))
    raw = text.encode("utf-8")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]
    return raw


def _check(path: Path) -> list[Problem]:
    """Load and validate `path` every way the lab does; the problems found (if any)."""
    problems: list[Problem] = []
    try:
        document = read_document(path)
    except InputError as exc:
        return exc.problems
    try:
        scenario = document.validate(Scenario)
        check_scenario(scenario, document)
        resolve_scenario_target(scenario, path, document)
    except InputError as exc:
        problems += exc.problems
    try:
        target = document.validate(TargetFile)
        check_target(target, document.file, document.positions)
    except InputError as exc:
        problems += exc.problems
    return problems


def _assert_located(problems: list[Problem], file: str) -> None:
    for problem in problems:
        assert problem.message, problem
        if problem.file != file:  # a file the scenario refers to (a target or profile)
            continue
        assert problem.line is not None and problem.column is not None, str(problem)
        assert re.match(rf"{re.escape(file)}:\d+:\d+: \S", str(problem)), str(problem)


def _fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def test_mutated_documents_only_ever_raise_located_input_errors(tmp_path: Path) -> None:
    path = tmp_path / "fuzzed.yaml"
    seen = {"documents": 0, "refused": 0}

    @_fuzz(1_200)
    @given(mutated_data())
    def data_level(text: str) -> None:
        path.write_text(text, encoding="utf-8")
        problems = _check(path)
        _assert_located(problems, str(path))
        seen["documents"] += 1
        seen["refused"] += bool(problems)

    data_level()
    assert seen["documents"] >= 1_200
    assert seen["refused"] >= 600  # mutations mostly break files: the checks did run


def test_damaged_yaml_and_bytes_only_ever_raise_located_input_errors(tmp_path: Path) -> None:
    path = tmp_path / "fuzzed.yaml"
    seen = {"documents": 0, "refused": 0}

    @_fuzz(1_000)
    @given(mutated_text())
    def text_level(raw: bytes) -> None:
        path.write_bytes(raw)
        problems = _check(path)
        _assert_located(problems, str(path))
        seen["documents"] += 1
        seen["refused"] += bool(problems)

    text_level()
    assert seen["documents"] >= 1_000
    assert seen["refused"] >= 800
