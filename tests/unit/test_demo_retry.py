"""The hardened demo's retry policy, and its whole AI-call pipeline on a fake clock.

The pipeline tests give `ResilientChat` a stand-in for the SDK client that raises the SDK's
own exception types, so every number (attempts, waits, breaker state) is exact; the same
behaviour against real sockets is in tests/integration/test_demo_targets.py.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx2
import openai
import pytest

from gaplab.demo.ai_call import RequestBudget, ResilientChat
from gaplab.demo.breaker import CircuitOpenError
from gaplab.demo.options import DEFENCES, HardenedConfig
from gaplab.demo.retry_policy import (
    AttemptTimeoutError,
    RetryPolicy,
    is_transient,
    retry_after_seconds,
)

REQUEST = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")
CLASSES: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    408: openai.APIStatusError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
    500: openai.InternalServerError,
    503: openai.InternalServerError,
}


def status_error(
    status: int, code: str | None = None, headers: dict[str, str] | None = None
) -> openai.APIStatusError:
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    body = {"message": "planted provider text", "type": code or "server_error", "code": code}
    return CLASSES[status]("planted provider text", response=response, body=body)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (status_error(503), True),
        (status_error(500), True),
        (status_error(429), True),
        (status_error(408), True),
        (status_error(429, code="insufficient_quota"), False),
        (status_error(400, code="context_length_exceeded"), False),
        (status_error(400), False),
        (status_error(401), False),
        (status_error(403), False),
        (status_error(404, code="model_not_found"), False),
        (status_error(422), False),
        (status_error(503, headers={"x-should-retry": "false"}), False),
        # A permanent error stays permanent, whatever the header says (the SDK would retry).
        (status_error(400, headers={"x-should-retry": "true"}), False),
        (status_error(429, code="insufficient_quota", headers={"x-should-retry": "true"}), False),
        (openai.APIConnectionError(request=REQUEST), True),
        (openai.APITimeoutError(request=REQUEST), True),
        (AttemptTimeoutError("slow"), True),
        (TimeoutError(), True),
        (CircuitOpenError(1.0), False),
        (ValueError("bug"), False),
    ],
)
def test_only_transient_errors_are_retried(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_retry_after_headers_the_later_of_the_two() -> None:
    assert retry_after_seconds(status_error(429, headers={"retry-after": "2"})) == 2.0
    assert retry_after_seconds(status_error(429, headers={"retry-after-ms": "350"})) == 0.35
    # The SDK reads retry-after-ms first; waiting for the later never retries before either.
    both = {"retry-after-ms": "1500", "retry-after": "2"}
    assert retry_after_seconds(status_error(429, headers=both)) == 2.0
    both = {"retry-after-ms": "2500", "retry-after": "2"}
    assert retry_after_seconds(status_error(429, headers=both)) == 2.5
    assert (
        retry_after_seconds(status_error(429, headers={"retry-after-ms": "x", "retry-after": "1"}))
        == 1.0
    )
    when = email.utils.formatdate(1_000_003.0, usegmt=True)
    dated = status_error(503, headers={"retry-after": when})
    assert retry_after_seconds(dated, now=1_000_000.0) == pytest.approx(3.0)
    assert retry_after_seconds(status_error(429, headers={"retry-after": "soon"})) is None
    assert retry_after_seconds(status_error(429, headers={"retry-after": "0"})) is None
    assert retry_after_seconds(status_error(429)) is None
    assert retry_after_seconds(TimeoutError()) is None


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(initial_backoff=0.25, max_backoff=2.0)
    rng = random.Random(7)
    for retry_number, ceiling in [(1, 0.25), (2, 0.5), (3, 1.0), (4, 2.0), (6, 2.0)]:
        waits = [policy.backoff(retry_number, rng) for _ in range(200)]
        assert min(waits) >= ceiling / 2
        assert max(waits) <= ceiling
        assert max(waits) - min(waits) > ceiling / 4  # the jitter really spreads them


def test_a_retry_must_fit_in_the_remaining_budget() -> None:
    policy = RetryPolicy(max_retries=2, min_attempt=0.1)
    error = status_error(429, headers={"retry-after": "1"})
    wait = policy.wait_before(1, error, random.Random(1))
    assert wait == 1.0
    assert policy.should_retry(1, error, wait, remaining=1.5)
    assert not policy.should_retry(1, error, wait, remaining=1.05)  # would overrun: give up now
    assert not policy.should_retry(3, error, wait, remaining=60.0)  # out of retries
    assert not policy.should_retry(1, status_error(400), 0.1, remaining=60.0)


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedClient:
    """Answers `chat.completions.create` from a script: an exception to raise or a text."""

    def __init__(self, script: Callable[[int], BaseException | str]) -> None:
        self.calls: list[dict[str, Any]] = []
        self._script = script
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))

    async def _create(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        outcome = self._script(len(self.calls))
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome == "hang":
            await asyncio.Event().wait()
        message = SimpleNamespace(content=outcome)
        return SimpleNamespace(choices=[SimpleNamespace(message=message)])


async def answer(chat: ResilientChat, messages: list[dict[str, str]], request_id: str) -> str:
    """The text of what `chat.complete` returned."""
    completion = await chat.complete(messages, request_id)
    return str(completion.choices[0].message.content)


def make_chat(
    client: ScriptedClient, fake: FakeTime, without: tuple[str, ...] = (), **numbers: Any
) -> ResilientChat:
    config = HardenedConfig(defences=frozenset(DEFENCES) - set(without), **numbers)
    return ResilientChat(
        client,  # type: ignore[arg-type]
        "gpt-4o-mini-2024-07-18",
        config,
        clock=fake.clock,
        sleep=fake.sleep,
        rng=random.Random(3),
    )


async def test_one_blip_then_success_takes_two_calls_and_forwards_the_request_id() -> None:
    fake = FakeTime()
    client = ScriptedClient(lambda n: status_error(503) if n == 1 else "Tuesday.")
    chat = make_chat(client, fake)
    text = await answer(chat, [{"role": "user", "content": "when?"}], "req-42")
    assert text == "Tuesday."
    assert len(client.calls) == 2
    assert [call["extra_headers"] for call in client.calls] == [
        {"x-request-id": "req-42", "x-stainless-retry-count": "0"},
        {"x-request-id": "req-42", "x-stainless-retry-count": "1"},
    ]
    assert client.calls[0]["timeout"] == 2.5  # the attempt timeout, announced to the provider
    assert all(call["model"] == "gpt-4o-mini-2024-07-18" for call in client.calls)
    assert len(fake.sleeps) == 1
    assert 0.125 <= fake.sleeps[0] <= 0.25


async def test_persistent_503_stops_after_two_retries() -> None:
    fake = FakeTime()
    client = ScriptedClient(lambda n: status_error(503))
    chat = make_chat(client, fake, without=("breaker",))
    with pytest.raises(openai.InternalServerError):
        await answer(chat, [], "r")
    assert len(client.calls) == 3
    assert len(fake.sleeps) == 2


async def test_permanent_errors_are_tried_once() -> None:
    for error in (status_error(400), status_error(429, code="insufficient_quota")):
        fake = FakeTime()
        client = ScriptedClient(lambda n, error=error: error)  # type: ignore[misc]
        with pytest.raises(openai.APIStatusError):
            await answer(make_chat(client, fake), [], "r")
        assert len(client.calls) == 1
        assert fake.sleeps == []


async def test_retry_after_is_honoured_but_never_past_the_budget() -> None:
    fake = FakeTime()
    client = ScriptedClient(
        lambda n: status_error(429, headers={"retry-after": "1"}) if n == 1 else "ok"
    )
    assert await answer(make_chat(client, fake, budget=4.0), [], "r") == "ok"
    assert fake.sleeps == [1.0]

    fake = FakeTime()
    client = ScriptedClient(lambda n: status_error(429, headers={"retry-after": "30"}))
    with pytest.raises(openai.RateLimitError):
        await answer(make_chat(client, fake, budget=4.0), [], "r")
    assert len(client.calls) == 1  # gave up at once instead of sleeping past the budget
    assert fake.sleeps == []


async def test_without_timeout_a_long_retry_after_is_waited_out() -> None:
    fake = FakeTime()
    client = ScriptedClient(
        lambda n: status_error(429, headers={"retry-after": "30"}) if n == 1 else "ok"
    )
    assert await answer(make_chat(client, fake, without=("timeout",)), [], "r") == "ok"
    assert fake.sleeps == [30.0]


async def test_without_retry_one_call_only() -> None:
    fake = FakeTime()
    client = ScriptedClient(lambda n: status_error(503) if n == 1 else "ok")
    with pytest.raises(openai.InternalServerError):
        await answer(make_chat(client, fake, without=("retry",)), [], "r")
    assert len(client.calls) == 1


async def test_breaker_counts_provider_calls_and_then_fails_fast() -> None:
    fake = FakeTime()
    client = ScriptedClient(lambda n: status_error(503))
    chat = make_chat(client, fake, threshold=5, break_duration=5.0)
    for _ in range(2):  # 3 + 2 calls: the 5th failure opens it during the second request
        with pytest.raises(Exception):  # noqa: B017 - either the 503 or the open circuit
            await answer(chat, [], "r")
    assert len(client.calls) == 5
    assert chat.breaker is not None and chat.breaker.state == "open"
    assert fake.sleeps == [pytest.approx(s, abs=0.25) for s in (0.25, 0.5, 0.25)]  # no 4th
    for _ in range(10):
        with pytest.raises(CircuitOpenError) as caught:
            await answer(chat, [], "r")
    assert len(client.calls) == 5
    assert caught.value.retry_in == pytest.approx(5.0)
    fake.now += 5.0
    with pytest.raises(openai.InternalServerError):  # the probe fails: open again
        await answer(chat, [], "r")
    assert len(client.calls) == 6
    assert chat.breaker.times_opened == 2


async def test_an_empty_answer_is_returned_as_it_came_for_the_output_check() -> None:
    fake = FakeTime()
    client = ScriptedClient(lambda n: "  ")
    assert await answer(make_chat(client, fake), [], "r") == "  "
    assert len(client.calls) == 1  # a 200 is not retried, whatever it says


async def test_one_request_budget_allows_three_calls_in_all() -> None:
    fake = FakeTime()
    client = ScriptedClient(lambda n: status_error(503) if n <= 2 else "ok")
    chat = make_chat(client, fake, without=("breaker",))
    budget = chat.budget()
    assert await answer_with(chat, budget) == "ok"  # 503, 503, ok: three calls
    assert budget.calls_left == 0
    with pytest.raises(RuntimeError, match="no provider calls left"):
        await chat.complete([], "r", budget)  # a second ask of the same request: no call
    assert len(client.calls) == 3

    fake = FakeTime()
    client = ScriptedClient(lambda n: status_error(503) if n == 1 else "ok")
    chat = make_chat(client, fake, without=("breaker",))
    budget = chat.budget()
    assert await answer_with(chat, budget) == "ok"
    client_calls = len(client.calls)
    client._script = lambda n: status_error(503)
    with pytest.raises(openai.InternalServerError):
        await chat.complete([], "r", budget)  # only one call left: one retry, not two
    assert len(client.calls) - client_calls == 1


async def answer_with(chat: ResilientChat, budget: RequestBudget) -> str:
    completion = await chat.complete([], "r", budget)
    return str(completion.choices[0].message.content)


async def test_a_hung_attempt_is_cut_by_the_real_attempt_timeout() -> None:
    client = ScriptedClient(lambda n: "hang" if n == 1 else "late but fine")
    config = HardenedConfig(budget=2.0, attempt_timeout=0.2)
    chat = ResilientChat(client, "m", config, rng=random.Random(1))  # type: ignore[arg-type]
    assert await answer(chat, [], "r") == "late but fine"
    assert len(client.calls) == 2


async def test_the_total_budget_cuts_a_hang_and_counts_as_a_breaker_failure() -> None:
    client = ScriptedClient(lambda n: "hang")
    config = HardenedConfig(budget=0.3, attempt_timeout=5.0, threshold=1)
    chat = ResilientChat(client, "m", config)  # type: ignore[arg-type]
    with pytest.raises(TimeoutError):
        await answer(chat, [], "r")
    assert chat.breaker is not None and chat.breaker.state == "open"
