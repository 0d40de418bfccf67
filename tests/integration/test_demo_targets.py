"""The bundled demo targets as real subprocesses against the real mock provider.

Every number comes from the provider journal (upstream calls, retry counts, timing) or from
what a user got back; every demo is stopped with SIGTERM and must exit 0. Short budgets and
breaks keep each test to a few seconds; the margins are wide enough for a busy machine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gaplab.demo.server import LISTENING_PREFIX
from gaplab.demo.service import FALLBACK_ANSWER
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.markers import ERROR_MARKER_RE
from gaplab.provider.profiles import load_profile
from gaplab.provider.server import MockProvider

FAST = load_profile("openai").with_latency_scale(0.02)
SHORT = ("--budget", "1.5s", "--break", "1s")
QUESTION = {"message": "Where is my order 1042?", "user_id": "u-1"}
_asked = itertools.count(1)
START_TIMEOUT = 30.0


@pytest.fixture
async def provider() -> AsyncIterator[MockProvider]:
    async with MockProvider(FAST, seed=3) as mock:
        yield mock


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session


@asynccontextmanager
async def running_demo(
    provider: MockProvider, log_dir: Path, name: str, *args: str, label: str = ""
) -> AsyncIterator[str]:
    """Serve `python -m gaplab.demo NAME --port 0 ARGS`; yield its base URL. `label` names
    its log file when several demos of one name run side by side."""
    env = {**os.environ, "OPENAI_BASE_URL": provider.openai_base_url, "OPENAI_API_KEY": "k"}
    log_path = log_dir / f"demo-{label or name}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gaplab.demo", name, "--port", "0", *args,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=log,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            line = (await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)).decode()
            assert line.startswith(LISTENING_PREFIX), line
            yield line.strip().removeprefix(LISTENING_PREFIX)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise
    assert code == 0, log_path.read_text()


async def ask(
    http: aiohttp.ClientSession, url: str, request_id: str | None = None
) -> tuple[int, str, float]:
    headers = {"x-request-id": request_id} if request_id else {}
    started = time.monotonic()
    # Each question is new (as the lab's are: they carry a case reference), so the hardened
    # demo's answer cache never answers one without the provider.
    question = {**QUESTION, "message": f"Case KQX-{next(_asked):06d}: {QUESTION['message']}"}
    async with http.post(url + "/chat", json=question, headers=headers) as response:
        return response.status, await response.text(), time.monotonic() - started


def calls(provider: MockProvider) -> list[ProviderCall]:
    return list(provider.journal)


def degraded(body: str) -> bool:
    document: Any = json.loads(body)
    return bool(document.get("degraded")) and document.get("answer") == FALLBACK_ANSWER


async def test_naive_answers_with_sdk_defaults_and_a_floating_model(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "naive") as url:
        status, body, _ = await ask(http, url, request_id="rid-7")
        assert status == 200 and '"answer":"' in body
        [call] = calls(provider)
        assert call.model_requested == "gpt-4o-mini"
        assert (call.retry_count, call.read_timeout) == (0, 600.0)
        assert "rid-7" not in call.correlation.values()  # the naive demo drops it
        assert call.system_prompt is not None and "Northwind Bikes" in call.system_prompt


async def test_naive_turns_a_503_into_a_500_with_the_provider_text_after_three_calls(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "naive") as url:
        provider.set_faults([ProviderFault(error=503)])
        status, body, _ = await ask(http, url)
        assert status == 500
        # The afternoon pattern: `{"error": str(exc)}`, the provider's own message inside.
        error = json.loads(body)["error"]
        assert error.startswith("Error code: 503") and ERROR_MARKER_RE.search(error)
        assert [c.retry_count for c in calls(provider)] == [0, 1, 2]
        assert all(c.status == 503 for c in calls(provider))
        async with http.get(url + "/notes/1") as notes:  # the rest of the app still works
            assert notes.status == 200

        provider.set_faults([ProviderFault(error=429, code="insufficient_quota")])
        status, body, _ = await ask(http, url)
        assert status == 500 and "exceeded your current quota" in json.loads(body)["error"]
        assert len(calls(provider)) == 6  # the SDK retries a quota error it cannot fix


async def test_hardened_pins_the_model_and_forwards_the_request_id(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened") as url:
        status, body, _ = await ask(http, url, request_id="rid-42")
        assert status == 200 and not degraded(body)
        [call] = calls(provider)
        assert call.model_requested == "gpt-4o-mini-2024-07-18"
        assert call.correlation.get("x-request-id") == "rid-42"
        assert (call.retry_count, call.read_timeout) == (0, 2.5)
        async with http.post(url + "/notes", json={"text": "call back"}) as created:
            assert created.status == 201
            note = await created.json()
        async with http.get(f"{url}/notes/{note['id']}") as fetched:
            assert (await fetched.json())["text"] == "call back"


async def test_hardened_answers_degraded_within_the_budget_on_503(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened", *SHORT) as url:
        provider.set_faults([ProviderFault(error=503)])
        status, body, elapsed = await ask(http, url)
        assert status == 200 and degraded(body)
        assert not ERROR_MARKER_RE.search(body)
        assert elapsed < 1.5 + 2.0  # the budget, plus a wide margin for a busy machine
        assert [c.retry_count for c in calls(provider)] == [0, 1, 2]


async def test_breaker_stops_upstream_calls_then_lets_traffic_resume(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(
        provider, tmp_path, "hardened", "--budget", "3s", "--break", "2s"
    ) as url:
        provider.set_faults([ProviderFault(error=503)])
        for _ in range(2):  # 3 calls, then 2 more: the fifth consecutive failure opens it
            status, body, _ = await ask(http, url)
            assert status == 200 and degraded(body)
        assert len(calls(provider)) == 5
        burst = await asyncio.gather(*(ask(http, url) for _ in range(20)))
        assert all(status == 200 and degraded(body) for status, body, _ in burst)
        # 20 users, at most one probe upstream (only if the machine stalled for 2 s).
        assert len(calls(provider)) - 5 <= 1
        async with http.get(url + "/health") as health:
            report = await health.json()
        assert report["breaker"] in ("open", "half_open") and report["status"] == "degraded"

        provider.clear_faults()
        await asyncio.sleep(2.3)
        status, body, _ = await ask(http, url)
        assert status == 200 and not degraded(body)
        assert calls(provider)[-1].status == 200
        async with http.get(url + "/health") as health:
            assert (await health.json())["breaker"] == "closed"


async def test_hardened_honours_retry_after_and_gives_up_when_it_would_overrun(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened") as url:
        provider.set_faults([ProviderFault(error=429, retry_after=1, first=1)])
        status, body, _ = await ask(http, url)
        assert status == 200 and not degraded(body)
        first, second = calls(provider)
        assert (first.status, second.status) == (429, 200)
        assert second.t_arrival - first.t_end >= 1.0  # not one moment before it was asked

        provider.set_faults([ProviderFault(error=429, retry_after=30)])
        status, body, elapsed = await ask(http, url)
        assert status == 200 and degraded(body)
        assert len(calls(provider)) == 3  # one call, no retry: waiting 30 s overruns 4 s
        assert elapsed < 4.0


async def test_hardened_never_retries_permanent_errors(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened") as url:
        for number, fault in enumerate(
            [ProviderFault(error=400), ProviderFault(error=429, code="insufficient_quota")],
            start=1,
        ):
            provider.set_faults([fault])
            status, body, _ = await ask(http, url)
            assert status == 200 and degraded(body)
            assert len(calls(provider)) == number


async def test_without_fallback_a_503_that_passes_the_provider_text_on(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened", *SHORT, "--without", "fallback") as url:
        provider.set_faults([ProviderFault(error=503)])
        status, body, _ = await ask(http, url)
        assert status == 503
        error = json.loads(body)["error"]
        assert error.startswith("Error code: 503") and ERROR_MARKER_RE.search(error)
        assert len(calls(provider)) == 3
        # Once the breaker is open, the error is its own, with no provider text in it.
        status, body, _ = await ask(http, url)  # calls 4 and 5: the fifth failure opens it
        assert status == 503 and len(calls(provider)) == 5
        status, body, _ = await ask(http, url)
        assert (status, json.loads(body)["error"][:12]) == (503, "circuit open")
        assert len(calls(provider)) == 5


async def test_the_budget_cuts_a_hang_and_without_it_the_user_waits(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    provider.set_faults([ProviderFault(hang=True)])
    async with running_demo(provider, tmp_path, "hardened", *SHORT) as url:
        status, body, elapsed = await ask(http, url)
        assert status == 200 and degraded(body)
        assert elapsed < 1.5 + 2.0
        async with http.get(url + "/notes/1") as notes:
            assert notes.status == 200
    async with running_demo(provider, tmp_path, "hardened", *SHORT, "--without", "timeout") as url:
        patience = aiohttp.ClientTimeout(total=1.5 + 2.0)
        with pytest.raises(TimeoutError):  # still waiting well past the budget
            await http.post(url + "/chat", json=QUESTION, timeout=patience)
        async with http.get(url + "/notes/1") as notes:  # the hang is contained, though
            assert notes.status == 200


async def test_the_demo_target_spec_starts_through_the_lab_target_runner(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    from gaplab.demo.spec import demo_target
    from gaplab.target.ports import free_port
    from gaplab.target.process import TargetProcess

    target = demo_target("demo:hardened?without=breaker&timeout=2s")
    assert target.start is not None
    port = free_port()
    names = {"port": str(port), "provider.openai_base_url": provider.openai_base_url}
    process = TargetProcess(
        target.start, names, tmp_path / "target.log", f"http://127.0.0.1:{port}"
    )
    await process.start()
    try:
        async with http.get(f"http://127.0.0.1:{port}/health") as health:
            report = await health.json()
        assert report["breaker"] == "none"
        assert report["defences"] == [
            "async_write",
            "bulkhead",
            "cache",
            "consent",
            "contract",
            "disclosure",
            "fallback",
            "guard",
            "health",
            "history",
            "idempotency",
            "input_limit",
            "kill_switch",
            "metrics",
            "output_cap",
            "output_check",
            "output_filter",
            "pin",
            "quota",
            "redact",
            "retry",
            "sanitise",
            "stream_guard",
            "timeout",
        ]
        status, body, _ = await ask(http, f"http://127.0.0.1:{port}")
        assert status == 200 and not degraded(body)
    finally:
        await process.stop()


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["hardened", "--without", "cash"], True, "defences are: timeout, retry"),
        (["hardened", "--quota", "lots"], True, "not a whole number"),
        (["hardened", "--break", "soon"], True, "not a duration"),
        (["naive", "--without", "breaker"], True, "no defence options"),
        (["sensible"], True, "'naive', 'hardened'"),
        (["naive"], False, "set OPENAI_BASE_URL"),
    ],
)
async def test_bad_command_lines_exit_2_with_a_clear_message(
    args: list[str], env: bool, needle: str
) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "OPENAI_BASE_URL"}
    if env:
        environment["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gaplab.demo", *args, "--port", "0", env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert needle in stderr.decode()


async def test_ctrl_c_stops_a_demo_cleanly_even_with_a_call_in_flight(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    provider.set_faults([ProviderFault(hang=True)])
    env = {**os.environ, "OPENAI_BASE_URL": provider.openai_base_url, "OPENAI_API_KEY": "k"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gaplab.demo", "naive", "--port", "0",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)).decode()
    url = line.strip().removeprefix(LISTENING_PREFIX)
    waiting = asyncio.ensure_future(http.post(url + "/chat", json=QUESTION))
    for _ in range(300):  # wait (at most 15 s) until the call is hung at the provider
        if provider.in_flight:
            break
        await asyncio.sleep(0.05)
    assert provider.in_flight == 1
    process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(process.wait(), 15) == 0
    response = await waiting  # after the grace period uvicorn ends it with a 500
    assert response.status == 500
    response.release()
