"""The mock provider's prompt cache: which prefix repeats, how many tokens it is billed as,
how long it lives."""

from __future__ import annotations

from typing import Any

from gaplab.provider.calls import ChatRequest
from gaplab.provider.prompt_cache import PromptCache, cached_share
from gaplab.provider.tokens import count_messages, count_tokens

LONG = " ".join(f"Paragraph {n} of the manual says the bike must be checked." for n in range(120))


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def chat(
    *messages: dict[str, Any], dialect: str = "openai", system: str | None = None
) -> ChatRequest:
    return ChatRequest(dialect, "gpt-4o-mini", tuple(messages), system, None)


def read(cache: PromptCache, request: ChatRequest) -> int:
    return cache.read(request, "gpt-4o-mini-2024-07-18", count_messages(request.messages))


def test_steps_of_128_from_1024() -> None:
    assert [cached_share(n) for n in (0, 1023, 1024, 1151, 1152, 5000)] == [
        0,
        0,
        1024,
        1024,
        1152,
        4992,
    ]


def test_a_resent_conversation_reads_its_history_from_the_cache() -> None:
    cache = PromptCache(Clock())
    system = {"role": "system", "content": LONG}
    turn1 = [system, {"role": "user", "content": "Where is my order?"}]
    assert count_tokens(LONG) > 1_024
    assert read(cache, chat(*turn1)) == 0  # first time: paid in full
    turn2 = [
        *turn1,
        {"role": "assistant", "content": "It ships today."},
        {"role": "user", "content": "Thanks!"},
    ]
    cached = read(cache, chat(*turn2))
    # The whole first turn repeats (system + question), not the new answer and question.
    assert cached == (count_messages(turn1) - 3) // 128 * 128
    turn3 = [
        *turn2,
        {"role": "assistant", "content": "You are welcome."},
        {"role": "user", "content": "Bye"},
    ]
    assert read(cache, chat(*turn3)) == (count_messages(turn2) - 3) // 128 * 128 >= cached


def test_an_identical_prompt_is_cached_whole_and_a_changed_first_message_not_at_all() -> None:
    cache = PromptCache(Clock())
    prompt = [{"role": "user", "content": LONG}]
    assert read(cache, chat(*prompt)) == 0
    assert read(cache, chat(*prompt)) == (count_messages(prompt) - 3) // 128 * 128
    changed = [{"role": "user", "content": LONG + " One more line."}]
    assert read(cache, chat(*changed)) == 0


def test_short_prompts_are_never_cached_and_a_prefix_expires_after_the_ttl() -> None:
    clock = Clock()
    cache = PromptCache(clock, ttl=300)
    short = [{"role": "user", "content": "Hello"}]
    assert read(cache, chat(*short)) == read(cache, chat(*short)) == 0
    assert len(cache) == 0  # nothing this short is even remembered
    prompt = [{"role": "system", "content": LONG}, {"role": "user", "content": "A"}]
    read(cache, chat(*prompt))
    clock.t = 299.0
    assert read(cache, chat(*prompt)) > 0  # used again: alive for another 300 s
    clock.t = 598.0
    assert read(cache, chat(*prompt)) > 0
    clock.t = 900.0
    assert read(cache, chat(*prompt)) == 0


def test_anthropic_top_level_system_prompt_is_a_cacheable_prefix_of_its_own() -> None:
    cache = PromptCache(Clock())
    first = chat(
        {"role": "user", "content": "Where is my order?"}, dialect="anthropic", system=LONG
    )
    second = chat({"role": "user", "content": "Can I return it?"}, dialect="anthropic", system=LONG)
    tokens = count_messages(second.messages, [LONG])
    assert cache.read(first, "claude", tokens) == 0
    assert cache.read(second, "claude", tokens) == count_tokens(LONG) // 128 * 128
    # Another model keeps its own cache.
    assert cache.read(second, "claude-other", tokens) == 0
