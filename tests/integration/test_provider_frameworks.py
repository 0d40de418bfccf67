"""Conformance with LangChain's ChatOpenAI and litellm.completion(api_base=...) as clients:
answers, streams and faults surface as each library documents, retries seen in the journal."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from gaplab.provider.pytest_plugin import MockLLM

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost-map download
QUESTION = "How does a circuit breaker protect the billing service?"


@pytest.fixture(scope="module")
def llm() -> Iterator[MockLLM]:
    mock = MockLLM(seed=4).start()
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture(autouse=True)
def _no_faults(llm: MockLLM) -> None:
    llm.clear_faults()


def new_calls(llm: MockLLM, before: int, count: int) -> list:  # type: ignore[type-arg]
    return llm.wait_for_calls(before + count)[before:]


def langchain_chat(llm: MockLLM, **options: Any) -> Any:
    """LangChain's ChatOpenAI pointed at the mock."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model="gpt-4o-mini", base_url=llm.openai_base_url, api_key="k", **options)


def test_langchain_invoke_stream_and_usage(llm: MockLLM) -> None:
    chat = langchain_chat(llm, max_tokens=120, stream_usage=True)
    before = len(llm.calls)
    reply = chat.invoke(QUESTION)
    streamed = "".join(str(chunk.content) for chunk in chat.stream(QUESTION))
    assert "circuit breaker" in str(reply.content).lower()
    assert streamed == reply.content
    whole, stream = new_calls(llm, before, 2)
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] == whole.tokens_out
    assert (whole.max_tokens, stream.stream) == (120, True)


def test_langchain_retries_a_429_as_the_sdk_does(llm: MockLLM) -> None:
    import openai

    chat = langchain_chat(llm, max_retries=1)
    llm.set_faults({"error": 429, "retry_after": "10ms"})
    before = len(llm.calls)
    with pytest.raises(openai.RateLimitError):
        chat.invoke(QUESTION)
    assert [c.retry_count for c in new_calls(llm, before, 2)] == [0, 1]


def test_litellm_completion_and_stream(llm: MockLLM) -> None:
    import litellm

    before = len(llm.calls)
    response = litellm.completion(
        model="openai/gpt-4o-mini",
        api_base=llm.openai_base_url,
        api_key="k",
        messages=[{"role": "user", "content": QUESTION}],
    )
    stream = litellm.completion(
        model="openai/gpt-4o-mini",
        api_base=llm.openai_base_url,
        api_key="k",
        stream=True,
        messages=[{"role": "user", "content": QUESTION}],
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == response.choices[0].message.content  # type: ignore[union-attr]
    whole, _ = new_calls(llm, before, 2)
    assert response.usage.completion_tokens == whole.tokens_out  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fault", "exception", "attempts"),
    [
        ({"error": 503, "retry_after": "10ms"}, "ServiceUnavailableError", 3),
        ({"error": 429, "retry_after": "10ms"}, "RateLimitError", 3),
        ({"error": 401, "code": "invalid_api_key"}, "AuthenticationError", 1),
    ],
)
def test_litellm_maps_faults_to_its_exceptions(
    llm: MockLLM,
    fault: dict,
    exception: str,  # type: ignore[type-arg]
    attempts: int,
) -> None:
    import litellm

    llm.set_faults(fault)
    before = len(llm.calls)
    with pytest.raises(getattr(litellm, exception)):
        litellm.completion(
            model="openai/gpt-4o-mini",
            api_base=llm.openai_base_url,
            api_key="k",
            messages=[{"role": "user", "content": QUESTION}],
        )
    calls = new_calls(llm, before, attempts)
    assert [c.retry_count for c in calls] == list(range(attempts))


def test_litellm_context_window_exceeded(llm: MockLLM) -> None:
    import litellm

    with pytest.raises(litellm.ContextWindowExceededError):
        litellm.completion(
            model="openai/gpt-3.5-turbo",
            api_base=llm.openai_base_url,
            api_key="k",
            messages=[{"role": "user", "content": "word " * 20000}],
        )
