"""Target files: placeholders, the JSON-path subset, and how user-side answers are judged."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaplab.errors import InputError
from gaplab.scenario.target_models import DegradedSpec, ResponseSpec
from gaplab.target.classify import classify
from gaplab.target.jsonpath import extract
from gaplab.target.resolve import resolve_target
from gaplab.target.template import placeholders, render
from gaplab.target.unsafe import UnsafeDetector

TARGET = """\
name: support-bot
start:
  command: uvicorn app:app --port {port}
  env: {OPENAI_BASE_URL: "{provider.openai_base_url}"}
request:
  url: "http://127.0.0.1:{port}/chat"
  json: {message: "{input}", user_id: "{user}", options: {stream: false}}
response:
  answer: $.data.answer
  degraded: {status: [503], contains: ["temporarily unavailable"]}
non_ai_endpoints: ["GET /health"]
"""


def test_render_replaces_known_names_and_keeps_json_braces() -> None:
    value = {"q": "{input}", "raw": '{"a": 1}', "list": ["{user}", 3]}
    assert render(value, {"input": "hi", "user": "u1"}) == {
        "q": "hi",
        "raw": '{"a": 1}',
        "list": ["u1", 3],
    }
    assert placeholders(value) == {"input", "user"}


def test_jsonpath_subset() -> None:
    doc = {"data": {"items": [{"text": "a"}, {"text": "b"}]}, "x-y": 1}
    assert extract(doc, "$.data.items[1].text") == "b"
    assert extract(doc, "$.data.items[5].text") is None
    assert extract(doc, '$["x-y"]') == 1
    assert extract(doc, "$") == doc
    with pytest.raises(ValueError):
        extract(doc, "data.items")


def test_target_file_resolves(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(TARGET)
    target = resolve_target(str(path))
    assert target.request.json_body["options"] == {"stream": False}
    assert target.response.degraded.status == (503,)


def test_unknown_placeholder_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(TARGET.replace("{provider.openai_base_url}", "{provider.openai_url}"))
    with pytest.raises(InputError) as info:
        resolve_target(str(path))
    # Located at the key whose value holds it, with the field down to that key.
    (problem,) = info.value.problems
    assert str(problem).startswith(
        f"{path}:4:9: start.env.OPENAI_BASE_URL: unknown placeholder {{provider.openai_url}}"
    )


def test_port_needs_a_start_command(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    text = TARGET.split("request:")[1]
    path.write_text("name: bot\nrequest:" + text)
    with pytest.raises(InputError) as info:
        resolve_target(str(path))
    assert "{port} is only known when the lab starts the target" in str(info.value)


def test_target_file_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(TARGET.replace("method", "x").replace("url:", "uri:"))
    with pytest.raises(InputError) as info:
        resolve_target(str(path))
    text = str(info.value)
    assert f"{path}:6:3: request.uri: unknown field" in text
    assert "request.url: required field is missing" in text


def test_unknown_target() -> None:
    with pytest.raises(InputError, match="not a bundled demo"):
        resolve_target("no-such-target.yaml")


SPEC = ResponseSpec(
    answer="$.answer",
    degraded=DegradedSpec(status=(503,), contains=("temporarily unavailable",), field="$.degraded"),
)


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, b'{"answer": "Reset it from settings."}', "ok"),
        (200, b'{"answer": "sorry", "degraded": true}', "degraded"),
        (503, b"AI is temporarily unavailable", "degraded"),
        (502, b"bad gateway", "error"),
        (500, b"Internal Server Error", "error"),
        (200, b'{"answer": ""}', "error"),
        (200, b"<html>", "error"),
        (404, b'{"detail": "nope"}', "error"),
        (200, b'{"answer": "x [gaplab-provider-error:abc] y"}', "unsafe"),
    ],
)
def test_classify(status: int, body: bytes, outcome: str) -> None:
    assert classify(status, body, {}, SPEC, UnsafeDetector()).outcome == outcome


def test_degraded_header_signal() -> None:
    spec = ResponseSpec(degraded=DegradedSpec(header="X-Degraded"))
    verdict = classify(200, b'{"answer": "hi"}', {"x-degraded": "1"}, spec)
    assert verdict.outcome == "degraded"


@pytest.mark.parametrize(
    "text",
    ["plain question?", 'say "hi" \\ back', "line\nbreak\ttab", "naïve café ✓", "{user} {x}"],
)
def test_compiled_request_template_matches_render_then_serialise(text: str) -> None:
    import json

    from gaplab.target.template import RequestTemplate

    body = {
        "message": "{input}",
        "meta": {"user": "{user}", "n": 3, "raw": '{"a": 1}'},
        "list": ["{request_id}", True, None],
    }
    names = {"input": text, "user": "user-0001", "request_id": "r-1", "port": "8000"}
    template = RequestTemplate("http://127.0.0.1:{port}/chat", {"X-User": "{user}"}, body)
    assert json.loads(template.body(names) or "") == render(body, names)
    assert template.url(names) == "http://127.0.0.1:8000/chat"
    assert template.headers(names) == {"X-User": "user-0001"}
    assert RequestTemplate("http://x/chat", {}, None).body(names) is None


def _target_problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bot.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        resolve_target(str(path))
    return [str(p).replace(str(path), "bot.yaml") for p in info.value.problems]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ('"python3 -c \'unterminated"', "cannot split into arguments (no closing quotation)"),
        ('"python3 \\\\"', "cannot split into arguments (no escaped character)"),
        ('""', "the start command is empty"),
        ("[]", "the start command is empty"),
    ],
)
def test_a_start_command_that_cannot_run_is_an_input_error(
    tmp_path: Path, command: str, message: str
) -> None:
    text = TARGET.replace("command: uvicorn app:app --port {port}", f"command: {command}")
    (problem,) = _target_problems(tmp_path, text)
    assert problem.startswith(f"bot.yaml:3:3: start.command: {message}")


def test_placeholders_are_located_at_the_value_that_holds_them(tmp_path: Path) -> None:
    text = TARGET.replace('"{input}"', '"{inputt}"').replace(
        '["GET /health"]', '["GET /health", {http: "GET /x/{id}", headers: {A: "{who}"}}]'
    )
    assert _target_problems(tmp_path, text) == [
        "bot.yaml:7:10: request.json.message: unknown placeholder {inputt}; known: "
        "{conversation}, {input}, {port}, {provider.anthropic_base_url}, "
        "{provider.openai_base_url}, {request_id}, {user}",
        "bot.yaml:11:36: non_ai_endpoints[1].http: unknown placeholder {id}; known: {port}, "
        "{provider.anthropic_base_url}, {provider.openai_base_url}",
        "bot.yaml:11:67: non_ai_endpoints[1].headers.A: unknown placeholder {who}; known: "
        "{port}, {provider.anthropic_base_url}, {provider.openai_base_url}",
    ]


def test_json_paths_are_checked_and_located(tmp_path: Path) -> None:
    text = TARGET.replace("answer: $.data.answer", "answer: data.answer").replace(
        "response:\n", "response:\n  refusal: {field: '$['}\n"
    )
    problems = _target_problems(tmp_path, text)
    assert problems[0].startswith("bot.yaml:10:3: response.answer: 'data.answer': a JSON path")
    assert problems[1].startswith("bot.yaml:9:13: response.refusal.field: '$[': cannot read")


def test_port_without_start_is_located(tmp_path: Path) -> None:
    (problem,) = _target_problems(tmp_path, "name: bot\nrequest:" + TARGET.split("request:")[1])
    assert problem.startswith("bot.yaml:3:3: request.url: {port} is only known when")


def test_conversation_placeholder_is_known_and_filled_for_every_request() -> None:
    """`{conversation}` is the session id of a conversation turn, and empty otherwise."""
    from gaplab.target.template import REQUEST_NAMES, RequestTemplate

    assert "conversation" in REQUEST_NAMES
    template = RequestTemplate(
        "http://x/chat", {}, {"message": "{input}", "conversation_id": "{conversation}"}
    )
    turn = template.body({"input": "Hi", "conversation": "conv-kqx-482135"})
    single = template.body({"input": "Hi", "conversation": ""})
    assert turn == '{"message": "Hi", "conversation_id": "conv-kqx-482135"}'
    assert single == '{"message": "Hi", "conversation_id": ""}'
