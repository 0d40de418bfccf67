"""The mock provider's Anthropic dialect driven by the official anthropic SDK."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import anthropic
import pytest

from gaplab.provider.faults import ProviderFault
from gaplab.provider.markers import ERROR_MARKER_RE
from gaplab.provider.profiles import RateLimits, load_profile
from gaplab.provider.server import MockProvider

FAST = load_profile("anthropic").with_latency_scale(0.02)
ASK = [{"role": "user", "content": "How do I migrate the invoice archive to cold storage?"}]


@pytest.fixture
async def provider() -> AsyncIterator[MockProvider]:
    async with MockProvider(FAST, seed=5) as mock:
        yield mock


def client(provider: MockProvider, **kwargs: object) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=provider.anthropic_base_url, api_key="lab", **kwargs)  # type: ignore[arg-type]


async def test_message_answers_and_journals_the_top_level_system(provider: MockProvider) -> None:
    raw = await client(provider).messages.with_raw_response.create(
        model="claude-sonnet-4",
        max_tokens=400,
        system="You are the archive assistant.",
        messages=ASK,
        metadata={"user_id": "u-9"},
    )
    message = await raw.parse()
    text = message.content[0].text  # type: ignore[union-attr]
    assert message.model == "claude-sonnet-4-20250514"
    assert message.stop_reason == "end_turn"
    assert "invoice" in text.lower() and "archive" in text.lower()
    [call] = list(provider.journal)
    assert raw.headers["request-id"] == call.call_id
    assert call.dialect == "anthropic" and call.path == "/v1/messages"
    assert call.system_prompt == "You are the archive assistant."
    assert call.max_tokens == 400 and call.retry_count == 0
    assert call.correlation["metadata.user_id"] == "u-9"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (
        call.tokens_in,
        call.tokens_out,
    )
    assert call.cost_usd == pytest.approx((call.tokens_in * 3 + call.tokens_out * 15) / 1e6)
    assert int(raw.headers["anthropic-ratelimit-requests-remaining"]) == 20000 - 1
    # Input and output counted apart, output from max_tokens (the bundled profile's limits).
    assert int(raw.headers["anthropic-ratelimit-input-tokens-remaining"]) == (
        16_000_000 - call.tokens_in
    )
    assert int(raw.headers["anthropic-ratelimit-output-tokens-remaining"]) == 4_000_000 - 400
    assert raw.headers["anthropic-ratelimit-output-tokens-reset"].endswith("Z")


async def test_stream_event_sequence_and_text(provider: MockProvider) -> None:
    sdk = client(provider)
    whole = await sdk.messages.create(model="claude-sonnet-4", max_tokens=400, messages=ASK)
    async with sdk.messages.stream(model="claude-sonnet-4", max_tokens=400, messages=ASK) as stream:
        streamed = "".join([piece async for piece in stream.text_stream])
        final = await stream.get_final_message()
    assert streamed == whole.content[0].text  # type: ignore[union-attr]
    assert final.usage.output_tokens == whole.usage.output_tokens
    body = {"model": "claude-sonnet-4", "max_tokens": 50, "stream": True, "messages": ASK}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{provider.anthropic_base_url}/v1/messages", json=body) as response,
    ):
        events = [
            block.split("\n")[0].removeprefix("event: ")
            for block in (await response.read()).decode().split("\n\n")
            if block
        ]
    assert events[:3] == ["message_start", "ping", "content_block_start"]
    assert events[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(events[3:-3]) == {"content_block_delta"}


async def test_max_tokens_is_required_and_errors_are_anthropic_shaped(
    provider: MockProvider,
) -> None:
    body = {"model": "claude-sonnet-4", "messages": ASK}  # the SDK refuses to send this
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{provider.anthropic_base_url}/v1/messages", json=body) as response,
    ):
        payload = await response.json()
        request_id = response.headers["request-id"]
    assert response.status == 400
    assert payload["type"] == "error" and payload["request_id"] == request_id
    assert payload["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in payload["error"]["message"]


async def test_small_max_tokens_stops_with_max_tokens(provider: MockProvider) -> None:
    message = await client(provider).messages.create(
        model="claude-sonnet-4", max_tokens=4, messages=ASK
    )
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens <= 4


async def test_529_overloaded_is_retried_then_raised(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(error=529, retry_after=0.01)])
    with pytest.raises(anthropic.OverloadedError) as caught:
        await client(provider).messages.create(model="claude-sonnet-4", max_tokens=50, messages=ASK)
    calls = list(provider.journal)
    assert [c.retry_count for c in calls] == [0, 1, 2]
    assert caught.value.request_id == calls[-1].call_id
    body = caught.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "overloaded_error"
    assert ERROR_MARKER_RE.search(body["error"]["message"])


async def test_x_should_retry_false_stops_retries(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(error=503, should_retry=False)])
    with pytest.raises(anthropic.InternalServerError):
        await client(provider).messages.create(model="claude-sonnet-4", max_tokens=50, messages=ASK)
    assert len(provider.journal) == 1


async def test_mid_stream_error_event_is_a_status_error_with_200(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(stream="error_event", stream_after=2)])
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client(provider).messages.stream(
            model="claude-sonnet-4", max_tokens=200, messages=ASK
        ) as stream:
            async for _ in stream.text_stream:
                pass
    assert caught.value.status_code == 200
    assert not isinstance(caught.value, anthropic.OverloadedError)
    [call] = list(provider.journal)  # not retried
    assert (call.status, call.outcome) == (200, "error")


async def test_wrong_event_order_breaks_the_message_stream(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(stream="wrong_order")])
    with pytest.raises(IndexError):
        async with client(provider).messages.stream(
            model="claude-sonnet-4", max_tokens=200, messages=ASK
        ) as stream:
            async for _ in stream.text_stream:
                pass


async def test_cut_stream_has_no_message_stop(provider: MockProvider) -> None:
    provider.set_faults([ProviderFault(stream="cut", stream_after=3)])
    body = {"model": "claude-sonnet-4", "max_tokens": 200, "stream": True, "messages": ASK}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{provider.anthropic_base_url}/v1/messages", json=body) as response,
    ):
        text = (await response.read()).decode()
    assert "message_start" in text and "message_stop" not in text
    assert provider.journal[0].outcome == "stream_cut"


async def test_tool_use_round_trip(provider: MockProvider) -> None:
    tools = [
        {
            "name": "lookup_invoice",
            "description": "Find an invoice by number",
            "input_schema": {
                "type": "object",
                "properties": {"number": {"type": "string"}},
                "required": ["number"],
            },
        }
    ]
    sdk = client(provider)
    first = await sdk.messages.create(
        model="claude-sonnet-4",
        max_tokens=200,
        tools=tools,  # type: ignore[arg-type]
        messages=ASK,
    )
    assert first.stop_reason == "tool_use"
    [use] = [b for b in first.content if b.type == "tool_use"]
    assert use.name == "lookup_invoice" and isinstance(use.input["number"], str)  # type: ignore[union-attr,index]
    follow_up = [
        *ASK,
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": use.id,  # type: ignore[union-attr]
                    "content": "INV-123 archived in 2021",
                }
            ],
        },
    ]
    second = await sdk.messages.create(
        model="claude-sonnet-4",
        max_tokens=300,
        tools=tools,  # type: ignore[arg-type]
        messages=follow_up,
    )  # type: ignore[arg-type]
    assert second.stop_reason == "end_turn"
    assert "INV-123" in second.content[0].text  # type: ignore[union-attr]
    assert json.loads(json.dumps(provider.journal[0].tools))[0]["name"] == "lookup_invoice"


async def test_output_tokens_limit_refuses_a_large_max_tokens_as_a_rate_limit_error() -> None:
    limits = RateLimits(output_tokens_per_minute=1000)
    async with MockProvider(FAST.model_copy(update={"rate_limits": limits}), seed=5) as mock:
        sdk = client(mock, max_retries=0)
        await sdk.messages.create(model="claude-sonnet-4", max_tokens=600, messages=ASK)
        with pytest.raises(anthropic.RateLimitError) as caught:
            await sdk.messages.create(model="claude-sonnet-4", max_tokens=600, messages=ASK)
        # The same prompt with a smaller allowance still fits the minute.
        await sdk.messages.create(model="claude-sonnet-4", max_tokens=300, messages=ASK)
    headers = caught.value.response.headers
    assert headers["anthropic-ratelimit-output-tokens-remaining"] == "400"
    assert 55 <= int(headers["retry-after"]) <= 60
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert "output tokens per min" in caught.value.message
