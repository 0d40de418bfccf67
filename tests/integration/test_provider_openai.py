"""The mock provider driven by the official openai SDK over real loopback sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import aiohttp
import openai
import pytest

from gaplab.engine.clock import MonotonicClock
from gaplab.provider.faults import FaultMatch, ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.markers import ERROR_MARKER_RE
from gaplab.provider.profiles import load_profile
from gaplab.provider.server import MockProvider

FAST = load_profile("openai").with_latency_scale(0.02)
QUESTION = "How should we rotate database credentials for the billing service?"


@pytest.fixture
async def provider() -> AsyncIterator[MockProvider]:
    async with MockProvider(FAST, seed=7) as mock:
        yield mock


def client(provider: MockProvider, **kwargs: object) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=provider.openai_base_url, api_key="lab-key", **kwargs)  # type: ignore[arg-type]


def ask(content: str = QUESTION) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You are the support bot."},
        {"role": "user", "content": content},
    ]


async def test_completion_answers_the_question_and_journals_it(provider: MockProvider) -> None:
    raw = await client(provider).chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=ask(),
        max_completion_tokens=300,
        user="u-17",
        extra_headers={"x-correlation-id": "corr-1"},
    )
    completion = raw.parse()
    answer = (completion.choices[0].message.content or "").lower()
    assert completion.model == "gpt-4o-mini-2024-07-18"
    assert "database" in answer and "credentials" in answer
    assert completion.choices[0].finish_reason == "stop"
    [call] = list(provider.journal)
    assert raw.headers["x-request-id"] == call.call_id
    assert (call.status, call.outcome, call.dialect) == (200, "completed", "openai")
    assert call.system_prompt == "You are the support bot."
    assert call.messages[1]["content"] == QUESTION
    assert call.max_tokens == 300
    assert (call.retry_count, call.read_timeout) == (0, 600.0)
    assert call.user_agent is not None and call.user_agent.startswith("AsyncOpenAI/Python")
    assert call.correlation["x-correlation-id"] == "corr-1"
    assert call.correlation["user"] == "u-17"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (
        call.tokens_in,
        call.tokens_out,
    )
    assert call.cost_usd == pytest.approx((call.tokens_in * 0.15 + call.tokens_out * 0.6) / 1e6)
    assert call.t_arrival <= (call.t_first_byte or 0) <= call.t_end


async def test_answers_are_deterministic_per_seed_and_question(provider: MockProvider) -> None:
    sdk = client(provider)
    first = await sdk.chat.completions.create(model="gpt-4o-mini", messages=ask())
    again = await sdk.chat.completions.create(model="gpt-4o-mini", messages=ask())
    other = await sdk.chat.completions.create(
        model="gpt-4o-mini", messages=ask("Why does the invoice export time out on large accounts?")
    )
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.choices[0].message.content != other.choices[0].message.content
    assert "invoice" in (other.choices[0].message.content or "")


async def test_stream_matches_the_whole_answer_and_ends_with_usage(provider: MockProvider) -> None:
    sdk = client(provider)
    whole = await sdk.chat.completions.create(model="gpt-4o-mini", messages=ask())
    stream = await sdk.chat.completions.create(
        model="gpt-4o-mini", messages=ask(), stream=True, stream_options={"include_usage": True}
    )
    pieces, finishes, usage = [], [], None
    async for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
            finishes.append(chunk.choices[0].finish_reason)
        else:
            usage = chunk.usage
    assert "".join(pieces) == whole.choices[0].message.content
    assert len(pieces) > 10  # streamed token by token, not in one piece
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]
    calls = list(provider.journal)
    assert [c.stream for c in calls] == [False, True]
    assert calls[1].tokens_out == usage.completion_tokens


async def test_raw_sse_is_shaped_like_the_real_service(provider: MockProvider) -> None:
    body = {"model": "gpt-4o-mini", "messages": ask(), "stream": True}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{provider.openai_base_url}/chat/completions", json=body) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        text = (await response.read()).decode()
    events = [e for e in text.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all("usage" not in c for c in chunks)  # no include_usage: no usage key at all


async def test_small_max_tokens_cuts_with_finish_reason_length(provider: MockProvider) -> None:
    completion = await client(provider).chat.completions.create(
        model="gpt-4o-mini", messages=ask(), max_tokens=5
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens <= 5
    assert provider.journal[0].max_tokens == 5


async def test_prompt_over_the_context_window_is_refused(provider: MockProvider) -> None:
    long_text = "The quarterly report describes revenue growth in every region. " * 2000
    with pytest.raises(openai.BadRequestError) as caught:
        await client(provider).chat.completions.create(
            model="gpt-3.5-turbo", messages=ask(long_text)
        )
    assert caught.value.code == "context_length_exceeded"
    [call] = list(provider.journal)
    assert call.status == 400 and call.tokens_in > 16385


async def test_503_is_retried_twice_then_raised_with_the_marker(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(error=503, retry_after=0.01)])
    with pytest.raises(openai.InternalServerError) as caught:
        await client(provider).chat.completions.create(model="gpt-4o-mini", messages=ask())
    assert caught.value.status_code == 503
    calls = list(provider.journal)
    assert [c.retry_count for c in calls] == [0, 1, 2]
    assert all(c.status == 503 and c.outcome == "error" for c in calls)
    match = ERROR_MARKER_RE.search(caught.value.message)
    assert match is not None and match.group(1) == calls[-1].call_id
    assert caught.value.request_id == calls[-1].call_id


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (500, openai.InternalServerError),
        (429, openai.RateLimitError),
        (408, openai.APIStatusError),
        (409, openai.ConflictError),
    ],
)
async def test_retryable_errors_succeed_after_first_n(
    provider: MockProvider, status: int, exception: type[Exception]
) -> None:
    provider.set_faults([ProviderFault(error=status, retry_after=0.01, first=2)])
    completion = await client(provider).chat.completions.create(model="gpt-4o-mini", messages=ask())
    assert completion.choices[0].message.content
    calls = list(provider.journal)
    assert [(c.status, c.retry_count) for c in calls] == [(status, 0), (status, 1), (200, 2)]
    provider.set_faults([ProviderFault(error=status, retry_after=0.01)])
    with pytest.raises(exception):
        await client(provider, max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=ask()
        )


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (400, None, openai.BadRequestError),
        (401, "invalid_api_key", openai.AuthenticationError),
        (404, "model_not_found", openai.NotFoundError),
    ],
)
async def test_client_errors_are_not_retried(
    provider: MockProvider, status: int, code: str | None, exception: type[Exception]
) -> None:
    provider.set_faults([ProviderFault(error=status, code=code)])
    with pytest.raises(exception):
        await client(provider).chat.completions.create(model="gpt-4o-mini", messages=ask())
    assert [c.status for c in provider.journal] == [status]


async def test_insufficient_quota_is_still_retried_by_the_sdk(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(error=429, code="insufficient_quota", retry_after=0.01)])
    with pytest.raises(openai.RateLimitError) as caught:
        await client(provider).chat.completions.create(model="gpt-4o-mini", messages=ask())
    assert caught.value.code == "insufficient_quota"
    assert caught.value.type == "insufficient_quota"
    assert len(provider.journal) == 3  # the wasted retries a check should flag


async def test_retry_after_beyond_the_sdk_cap_stops_retries(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(error=429, retry_after=300)])
    with pytest.raises(openai.RateLimitError):
        await client(provider).chat.completions.create(model="gpt-4o-mini", messages=ask())
    assert len(provider.journal) == 1


async def test_latency_fault_delays_the_first_byte(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(latency=0.6)])
    await client(provider).chat.completions.create(model="gpt-4o-mini", messages=ask())
    [call] = list(provider.journal)
    assert call.t_first_byte is not None and call.t_first_byte - call.t_arrival >= 0.6
    assert call.fault == "provider: latency 0.6s"


async def test_hang_is_recorded_when_the_client_gives_up(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(hang=True)])
    with pytest.raises(openai.APITimeoutError):
        await client(provider, timeout=0.3, max_retries=1).chat.completions.create(
            model="gpt-4o-mini", messages=ask()
        )
    for _ in range(100):  # the server notices the disconnect just after the client leaves
        if len(provider.journal) == 2:
            break
        await asyncio.sleep(0.02)
    calls = list(provider.journal)
    assert [(c.status, c.outcome, c.retry_count) for c in calls] == [
        (0, "client_disconnected", 0),
        (0, "client_disconnected", 1),
    ]
    assert calls[0].read_timeout == pytest.approx(0.3)
    assert calls[0].t_end - calls[0].t_arrival >= 0.25


async def test_stop_records_calls_still_hung() -> None:
    recorded: list[ProviderCall] = []
    provider = MockProvider(FAST, on_call=recorded.append, clock=MonotonicClock())
    await provider.start()
    provider.set_faults([ProviderFault(hang=True)])
    pending = asyncio.create_task(
        client(provider, max_retries=0).chat.completions.create(model="gpt-4o-mini", messages=ask())
    )
    for _ in range(500):
        if provider.in_flight:
            break
        await asyncio.sleep(0.01)
    assert provider.in_flight == 1
    await provider.stop()
    with pytest.raises(openai.APIConnectionError):
        await pending
    assert [(c.status, c.outcome) for c in recorded] == [(0, "hung")]


async def test_probability_is_reproducible_under_the_seed() -> None:
    async def statuses(seed: int) -> list[int]:
        async with MockProvider(FAST, seed=seed) as mock:
            mock.set_faults([ProviderFault(error=500, probability=0.5)])
            sdk = client(mock, max_retries=0)
            for _ in range(40):
                with contextlib.suppress(openai.InternalServerError):
                    await sdk.chat.completions.create(model="gpt-4o-mini", messages=ask())
            return [c.status for c in mock.journal]

    first, again, other = await statuses(3), await statuses(3), await statuses(4)
    assert first == again
    assert first != other
    assert 8 <= first.count(500) <= 32


async def test_every_nth_and_match_on_model(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(error=500, every=3, match=FaultMatch(model="gpt-4o"))])
    sdk = client(provider, max_retries=0)
    for model in ["gpt-4o-mini", "gpt-4o"] * 6:
        with contextlib.suppress(openai.InternalServerError):
            await sdk.chat.completions.create(model=model, messages=ask())
    statuses = [(c.model_requested, c.status) for c in provider.journal]
    assert [s for m, s in statuses if m == "gpt-4o-mini"] == [200] * 6
    assert [s for m, s in statuses if m == "gpt-4o"] == [200, 200, 500, 200, 200, 500]


async def test_models_endpoints(provider: MockProvider) -> None:
    sdk = client(provider)
    ids = [m.id async for m in sdk.models.list()]
    assert "gpt-4o-mini" in ids and "gpt-4o-mini-2024-07-18" in ids
    model = await sdk.models.retrieve("gpt-4o")
    assert model.id == "gpt-4o"
    with pytest.raises(openai.NotFoundError):
        await sdk.models.retrieve("no-such-model")


async def test_request_seed_repeats_an_answer_and_another_seed_changes_it(
    provider: MockProvider,
) -> None:
    sdk = client(provider)

    async def answer(**kwargs: object) -> str:
        done = await sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=ask(),  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )
        return done.choices[0].message.content or ""

    first, again = await answer(seed=11), await answer(seed=11)
    others = {await answer(seed=seed) for seed in (12, 13, 14)}
    assert first == again
    assert others - {first}, "three other seeds all gave the seed-11 answer"
    with pytest.raises(openai.BadRequestError) as caught:
        await answer(seed="eleven")
    assert caught.value.param == "seed"  # type: ignore[attr-defined]
