"""Cached prompt tokens, read by the official SDKs: a long prompt whose prefix repeats is
billed partly at the cached price, in OpenAI's and Anthropic's spelling, and journaled."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import openai
import pytest

from gaplab.provider.profiles import load_profile
from gaplab.provider.server import MockProvider
from gaplab.provider.tokens import count_tokens

OPENAI = load_profile("openai").with_latency_scale(0.01)
ANTHROPIC = load_profile("anthropic").with_latency_scale(0.01)
MANUAL = "You are the support assistant of a bike shop. " + " ".join(
    f"Rule {n}: answer politely, check order {1000 + n} first." for n in range(150)
)  # a long system prompt, as retrieval-heavy features send: about 2,000 tokens


@pytest.fixture
async def openai_provider() -> AsyncIterator[MockProvider]:
    async with MockProvider(OPENAI, seed=3) as mock:
        yield mock


@pytest.fixture
async def anthropic_provider() -> AsyncIterator[MockProvider]:
    async with MockProvider(ANTHROPIC, seed=3) as mock:
        yield mock


async def test_openai_reports_cached_tokens_of_a_repeated_prefix_and_bills_them(
    openai_provider: MockProvider,
) -> None:
    assert count_tokens(MANUAL) > 1_500
    async with openai.AsyncOpenAI(
        base_url=openai_provider.openai_base_url, api_key="lab-key"
    ) as client:
        first, second, short = [
            await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "system", "content": system}, {"role": "user", "content": ask}],
            )
            for system, ask in (
                (MANUAL, "Where is my order 1042?"),
                (MANUAL, "Can I return a helmet?"),  # same system prompt, another question
                ("You are brief.", "Can I return a helmet?"),  # under 1,024 tokens: no cache
            )
        ]
    assert first.usage is not None and second.usage is not None and short.usage is not None
    details = [u.prompt_tokens_details for u in (first.usage, second.usage, short.usage)]
    assert details[0] is not None and details[0].cached_tokens == 0
    cached = details[1].cached_tokens if details[1] else 0
    assert cached is not None and cached % 128 == 0
    # The system message repeats: its tokens (with the message overhead), down to 128s.
    assert cached == (count_tokens(MANUAL) + 3) // 128 * 128
    assert cached < second.usage.prompt_tokens  # the new question is never cached
    assert (details[2].cached_tokens if details[2] else 0) == 0
    calls = list(openai_provider.journal)
    assert [c.tokens_cached for c in calls] == [0, cached, 0]
    spec = OPENAI.find_model("gpt-4o-mini")
    assert spec is not None and spec.price_cached_input == 0.075
    fresh = calls[1].tokens_in - cached
    expected = (fresh * 0.15 + cached * 0.075 + calls[1].tokens_out * 0.60) / 1e6
    assert calls[1].cost_usd == pytest.approx(expected, rel=1e-12)
    assert calls[1].cost_usd < spec.cost(calls[1].tokens_in, calls[1].tokens_out)


async def test_openai_stream_usage_carries_cached_tokens(openai_provider: MockProvider) -> None:
    messages = [{"role": "system", "content": MANUAL}, {"role": "user", "content": "Hello?"}]
    async with openai.AsyncOpenAI(
        base_url=openai_provider.openai_base_url, api_key="lab-key"
    ) as client:
        for _ in range(2):
            stream = await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
            usage = None
            async for chunk in stream:
                usage = chunk.usage or usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert (
        usage.prompt_tokens_details.cached_tokens == list(openai_provider.journal)[1].tokens_cached
    )
    assert usage.prompt_tokens_details.cached_tokens > 1_024


async def test_a_model_without_a_cached_price_caches_nothing(openai_provider: MockProvider) -> None:
    async with openai.AsyncOpenAI(
        base_url=openai_provider.openai_base_url, api_key="lab-key"
    ) as client:
        for _ in range(2):
            done = await client.chat.completions.create(
                model="gpt-3.5-turbo",  # no price_cached_input in the profile
                messages=[{"role": "system", "content": MANUAL}, {"role": "user", "content": "Hi"}],
            )
            assert done.usage is not None and done.usage.prompt_tokens_details is not None
            assert done.usage.prompt_tokens_details.cached_tokens == 0
    assert [c.tokens_cached for c in openai_provider.journal] == [0, 0]


async def test_anthropic_reports_cache_reads_apart_from_input_tokens(
    anthropic_provider: MockProvider,
) -> None:
    async with anthropic.AsyncAnthropic(
        base_url=anthropic_provider.anthropic_base_url, api_key="lab-key"
    ) as client:
        answers = [
            await client.messages.create(
                model="claude-3-5-haiku-latest",
                max_tokens=200,
                system=MANUAL,
                messages=[{"role": "user", "content": ask}],
            )
            for ask in ("Where is my order 1042?", "Can I return a helmet?")
        ]
    first, second = (a.usage for a in answers)
    calls = list(anthropic_provider.journal)
    assert first.cache_read_input_tokens == 0
    # The top-level system prompt repeats, the question does not: the system is cached.
    assert second.cache_read_input_tokens == calls[1].tokens_cached
    assert calls[1].tokens_cached == count_tokens(MANUAL) // 128 * 128 > 1_024
    # Anthropic's input_tokens leave the cache reads out; the journal keeps the whole prompt.
    assert second.input_tokens + second.cache_read_input_tokens == calls[1].tokens_in
    expected = (
        second.input_tokens * 0.80 + second.cache_read_input_tokens * 0.08
    ) / 1e6 + second.output_tokens * 4.00 / 1e6
    assert calls[1].cost_usd == pytest.approx(expected, rel=1e-12)


async def test_an_embeddings_call_is_billed_only_when_answered(
    openai_provider: MockProvider,
) -> None:
    from gaplab.provider.faults import ProviderFault

    async with openai.AsyncOpenAI(
        base_url=openai_provider.openai_base_url, api_key="lab-key", max_retries=0
    ) as client:
        await client.embeddings.create(model="text-embedding-3-small", input="Where is it?")
        openai_provider.set_faults([ProviderFault(error=503)])
        with pytest.raises(openai.InternalServerError):
            await client.embeddings.create(model="text-embedding-3-small", input="Where is it?")
    answered, refused = list(openai_provider.journal)
    assert answered.status == 200 and answered.cost_usd == answered.tokens_in * 0.02 / 1e6 > 0
    assert refused.status == 503 and refused.tokens_in == answered.tokens_in
    assert refused.cost_usd == 0  # the provider does not bill the calls it refuses
