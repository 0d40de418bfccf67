"""Parsing `demo:` target specs and the demo command-line options."""

from __future__ import annotations

import sys

import pytest

from gaplab.demo.options import (
    DEFENCES,
    SPEC_OPTIONS,
    HardenedConfig,
    hardened_config,
    parse_without,
)
from gaplab.demo.spec import DEMO_NAMES, demo_target, parse_demo_spec
from gaplab.errors import InputError
from gaplab.target.resolve import check_target


def test_naive_target_starts_the_demo_against_the_mock_provider() -> None:
    target = demo_target("demo:naive")
    assert target.start is not None
    assert target.start.command == [
        sys.executable,
        "-m",
        "gaplab.demo",
        "naive",
        "--port",
        "{port}",
    ]
    assert target.start.env["OPENAI_BASE_URL"] == "{provider.openai_base_url}"
    assert target.start.env["OPENAI_API_KEY"]
    assert target.start.ready.http == "GET /health"
    assert target.request.method == "POST"
    assert target.request.url == "http://127.0.0.1:{port}/chat"
    assert target.request.json_body == {
        "message": "{input}",
        "user_id": "{user}",
        "conversation_id": "{conversation}",
    }
    assert target.response.answer == "$.answer"
    assert target.response.degraded.field == "$.degraded"
    assert [e.label for e in target.non_ai_endpoints] == ["GET /notes/1"]
    check_target(target, "demo:naive")  # placeholders and JSON paths are all known


@pytest.mark.parametrize("spec", ["demo:naive", "demo:hardened", "demo:hardened?without=guard"])
def test_both_demos_declare_the_same_security_contract(spec: str) -> None:
    target = demo_target(spec)
    response = target.response
    assert response.refusal.field == "$.refused"
    assert response.disclosure.header is not None
    assert response.disclosure.header.name == "X-AI-Generated"
    assert response.disclosure.header.matches({"x-ai-generated": "true"})
    assert not response.disclosure.header.matches({"X-AI-Generated": "false"})
    assert response.link_hosts == ("northwind-bikes.example",)
    assert target.request.opt_out is not None
    assert target.request.opt_out.json_fields == {"ai_consent": False}
    assert response.degraded.field == "$.degraded"


def test_hardened_defaults_run_every_defence() -> None:
    name, config = parse_demo_spec("demo:hardened")
    assert name == "hardened"
    assert config == HardenedConfig()
    assert config.defences == frozenset(DEFENCES)
    assert (config.budget, config.attempt_timeout, config.break_duration, config.threshold) == (
        4.0,
        2.5,
        5.0,
        5,
    )
    assert (config.stall_timeout, config.input_tokens, config.output_tokens) == (2.0, 8_000, 400)
    assert (config.history_turns, config.history_tokens, config.quota_tokens) == (6, 2_000, 20_000)
    assert (config.cache_ttl, config.max_retries) == (300.0, 2)


def test_hardened_options_reach_the_command_line() -> None:
    target = demo_target(
        "demo:hardened?without=breaker,fallback&break=2s&timeout=3s&threshold=7&stall=1s&quota=900"
    )
    assert target.start is not None
    command = target.start.command
    assert isinstance(command, list)
    assert command[:5] == [sys.executable, "-m", "gaplab.demo", "hardened", "--port"]
    flags = dict(zip(command[6::2], command[7::2], strict=True))
    assert flags == {
        "--budget": "3s",
        "--attempt-timeout": "2.5s",
        "--break": "2s",
        "--threshold": "7",
        "--stall-timeout": "1s",
        "--input-tokens": "8000",
        "--output-tokens": "400",
        "--cache-ttl": "300s",
        "--history-turns": "6",
        "--history-tokens": "2000",
        "--quota": "900",
        "--concurrency": "24",
        "--without": "breaker,fallback",
    }
    check_target(target, "demo:hardened")


def test_attempt_timeout_never_exceeds_the_budget() -> None:
    _, config = parse_demo_spec("demo:hardened?timeout=1500ms")
    assert config is not None
    assert config.budget == 1.5
    assert config.attempt_timeout == 1.5
    _, config = parse_demo_spec("demo:hardened?budget=3s&attempt=1s")
    assert config is not None
    assert (config.budget, config.attempt_timeout) == (3.0, 1.0)


def test_without_accepts_lists_and_repeats() -> None:
    assert parse_without(["breaker", "fallback,retry"]) == {"breaker", "fallback", "retry"}
    assert parse_without("") == frozenset()
    _, config = parse_demo_spec("demo:hardened?without=timeout")
    assert config is not None
    assert config.without == ("timeout",)
    assert not config.has("timeout")
    assert config.has("breaker")


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("demo:clever", "bundled demos: demo:naive, demo:hardened"),
        ("demo:hardened?without=cash", "defences are: timeout, retry, breaker, fallback, output"),
        ("demo:hardened?quota=lots", "demo option quota: 'lots' is not a whole number"),
        ("demo:hardened?stall=0s", "demo option stall: must be more than 0s"),
        ("demo:hardened?history=0", "demo option history: must be at least 1"),
        ("demo:hardened?colour=red", "valid options: without, timeout"),
        ("demo:hardened?threshold=0", "at least 1"),
        ("demo:hardened?threshold=many", "not a whole number"),
        ("demo:hardened?break=soon", "not a duration"),
        ("demo:hardened?break=0s", "more than 0s"),
        ("demo:hardened?break=1s&break=2s", "given twice"),
        ("demo:hardened?timeout=1s&budget=2s", "same option"),
        ("demo:hardened?nonsense", "options must look like"),
        ("demo:naive?without=breaker", "takes no options"),
        ("naive", "not a demo target"),
    ],
)
def test_invalid_specs_are_input_errors_naming_the_valid_choices(spec: str, needle: str) -> None:
    with pytest.raises(InputError) as caught:
        demo_target(spec)
    assert needle in str(caught.value)


def test_demo_names_and_defences_are_documented_one_liners() -> None:
    assert DEMO_NAMES == ("naive", "hardened")
    assert list(DEFENCES) == [
        "timeout",
        "retry",
        "breaker",
        "fallback",
        "output_check",
        "stream_guard",
        "pin",
        "contract",
        "input_limit",
        "output_cap",
        "cache",
        "history",
        "quota",
        "consent",
        "guard",
        "redact",
        "output_filter",
        "sanitise",
        "disclosure",
        "health",
        "metrics",
        "kill_switch",
        "async_write",
        "idempotency",
        "bulkhead",
    ]
    assert all(text and "\n" not in text for text in DEFENCES.values())


def test_config_round_trips_through_its_command_line() -> None:
    config = hardened_config(
        {"without": "retry,cache", "break": "750ms", "threshold": "3", "quota": "5_000",
         "stall": "1.5s", "history": "4", "cache_ttl": "1m"}
    )  # fmt: skip
    args = config.to_args()
    flags = dict(zip(args[::2], args[1::2], strict=True))
    by_flag = {flag: spec for spec, flag in SPEC_OPTIONS.items() if spec != "budget"}
    rebuilt = hardened_config({by_flag[flag]: value for flag, value in flags.items()})
    assert rebuilt == config
    assert (rebuilt.break_duration, rebuilt.quota_tokens, rebuilt.stall_timeout) == (
        0.75,
        5_000,
        1.5,
    )
    assert (rebuilt.history_turns, rebuilt.cache_ttl) == (4, 60.0)
    assert rebuilt.without == ("retry", "cache")


def test_both_demos_declare_the_hardened_caps_and_budget() -> None:
    for spec in ("demo:naive", "demo:hardened"):
        target = demo_target(spec)
        assert (target.limits.input_tokens, target.limits.output_tokens) == (8_000, 400)
        assert target.budget.per_user_tokens_per_minute == 20_000
    tuned = demo_target("demo:hardened?quota=3000&input_tokens=2000&output_tokens=100")
    assert (tuned.limits.input_tokens, tuned.limits.output_tokens) == (2_000, 100)
    assert tuned.budget.per_user_tokens_per_minute == 3_000


@pytest.mark.parametrize(
    ("interface", "path"), [("chat", "/chat"), ("stream", "/chat/stream"), ("json", "/triage")]
)
def test_each_interface_drives_its_endpoint(interface: str, path: str) -> None:
    target = demo_target("demo:hardened", interface=interface)
    assert target.request.url == "http://127.0.0.1:{port}" + path
    assert (target.response.stream is not None) == (interface == "stream")
    assert target.response.contract.declared == (interface == "json")
    check_target(target, "demo:hardened")
