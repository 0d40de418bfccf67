"""The hardened demo's cost defences against the real mock provider.

Each test starts the naive demo, the hardened demo and the hardened demo without the one
defence under test, side by side. The cost must land on naive (the provider journal shows
the oversized prompt, the uncapped call, every repeat, the growing history, the spend past
the quota), be stopped by hardened, and land again without the defence, while the others
hold. Token numbers are the provider's own counts.
"""

from __future__ import annotations

import asyncio
import itertools
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from gaplab.demo.service import FALLBACK_ANSWER
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.server import MockProvider

from .test_demo_security import Answer, Demo, http, provider, three_demos

__all__ = ["http", "provider"]  # fixtures

_numbers = itertools.count(100_000)


def question(text: str = "Where is my order 1042?") -> str:
    """A new question each time (a case reference, as the lab's carry), so the answer cache
    never answers it without the provider."""
    return f"Case KQX-{next(_numbers)}: {text}"


def calls(provider: MockProvider) -> list[ProviderCall]:
    return list(provider.journal)


DOCUMENT = "Please check my order history and tell me what went wrong:\n" + " ".join(
    f"Order {1000 + i} was placed on Monday, paid by card and shipped on Tuesday."
    for i in range(900)
)  # about 15,000 tokens: a long pasted document


async def test_input_limit_refuses_an_oversized_input_before_any_call(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        naive, hardened, without = await three_demos(stack, provider, http, tmp_path, "input_limit")
        sent = await naive.chat(DOCUMENT)
        assert sent.status == 200 and sent.calls == 1
        assert calls(provider)[-1].tokens_in > 12_000  # the provider was paid for all of it

        for path in ("/chat", "/triage", "/chat/stream"):
            refused = await hardened.post(path, DOCUMENT)
            assert refused.status == 413 and refused.calls == 0, path
            assert "too long" in refused.body["error"] and "8,000" in refused.body["error"]
        ordinary = await hardened.chat(question())
        assert ordinary.status == 200 and ordinary.calls == 1

        through = await without.chat(DOCUMENT)
        assert through.status == 200 and through.calls == 1
        assert calls(provider)[-1].tokens_in > 12_000


async def test_output_cap_sets_max_tokens_on_every_call(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        naive, hardened, without = await three_demos(stack, provider, http, tmp_path, "output_cap")

        async def caps(demo: Demo) -> list[int | None]:
            before = len(provider.journal)
            await demo.chat(question())
            await demo.triage(question("My brakes squeak."))
            await demo.stream(question())
            return [c.max_tokens for c in calls(provider)[before:]]

        assert set(await caps(naive)) == {None}
        assert set(await caps(hardened)) == {400}
        assert set(await caps(without)) == {None}

        # A model that goes on and on: capped, and the cut answer is not passed on as whole.
        provider.set_faults([ProviderFault(behaviour="huge_output", huge_tokens=3_000)])
        long = await naive.chat(question())
        assert calls(provider)[-1].tokens_out > 2_500 and len(long.text.split()) > 1_500
        capped = await hardened.chat(question())
        assert calls(provider)[-1].tokens_out <= 400
        assert capped.body["degraded"] is True and capped.text == FALLBACK_ANSWER
        uncapped = await without.chat(question())
        assert calls(provider)[-1].tokens_out > 2_500 and uncapped.body["degraded"] is False


async def test_cache_answers_repeated_questions_once(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    repeated = "Do you repair e-bikes?"
    async with AsyncExitStack() as stack:
        naive, hardened, without = await three_demos(stack, provider, http, tmp_path, "cache")

        async def ask_ten(demo: Demo) -> tuple[int, set[str], set[str]]:
            before = len(provider.journal)
            sequential = [await demo.chat(repeated) for _ in range(4)]
            variants = [await demo.chat(text) for text in ("do you REPAIR  e-bikes?", repeated)]
            burst = await asyncio.gather(*(demo.chat(repeated) for _ in range(4)))
            answers = [*sequential, *variants, *burst]
            assert all(a.status == 200 for a in answers)
            marks = {a.headers.get("x-ai-generated", "none") for a in answers}
            return len(provider.journal) - before, {a.text for a in answers}, marks

        assert (await ask_ten(naive))[0] == 10
        upstream, answers, marks = await ask_ten(hardened)
        assert upstream == 1 and len(answers) == 1  # one call; the same answer ten times
        assert marks == {"true"}  # a cached answer is still an AI answer, and says so
        assert (await ask_ten(without))[0] == 10

        # A burst of a new question at once: the first asks, the others wait for its answer.
        before = len(provider.journal)
        burst = await asyncio.gather(*(hardened.chat("Do you rent bikes?") for _ in range(6)))
        assert len(provider.journal) - before == 1 and len({a.text for a in burst}) == 1
        before = len(provider.journal)
        await asyncio.gather(*(without.chat("Do you rent bikes?") for _ in range(6)))
        assert len(provider.journal) - before == 6

        # Another question is another call; a turn of a conversation is never cached.
        assert (await hardened.chat("Do you repair cargo bikes?")).calls == 1
        assert (await hardened.chat(repeated, conversation_id="c-1")).calls == 1
        # A failure is not cached: the provider is asked again next time.
        provider.set_faults([ProviderFault(error=400)])
        assert (await hardened.chat("Do you sell helmets?")).body["degraded"] is True
        provider.clear_faults()
        again = await hardened.chat("Do you sell helmets?")
        assert again.calls == 1 and again.body["degraded"] is False


async def test_history_bounds_the_prompt_of_a_long_conversation(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        naive, hardened, without = await three_demos(stack, provider, http, tmp_path, "history")

        async def converse(demo: Demo, conversation: str) -> list[ProviderCall]:
            before = len(provider.journal)
            for _ in range(20):  # the same question every turn: the cache cannot hide growth
                answer = await demo.chat("Where is my order 1042?", conversation_id=conversation)
                assert answer.status == 200 and answer.calls == 1
            return calls(provider)[before:]

        grown = await converse(naive, "naive-1")
        assert [len(c.messages) for c in grown] == [2 + 2 * turn for turn in range(20)]
        assert grown[-1].tokens_in > 8 * grown[0].tokens_in

        bounded = await converse(hardened, "hardened-1")
        assert [len(c.messages) for c in bounded] == [2 + 2 * min(t, 6) for t in range(20)]
        late = [c.tokens_in for c in bounded[6:]]
        assert max(late) - min(late) <= 2  # flat once the window is full
        assert grown[-1].tokens_in > 2.5 * max(late)  # naive's last turn, against ours
        # A new conversation starts empty; another user's turns never leak into it.
        fresh = await hardened.chat("Hello?", conversation_id="hardened-2")
        assert fresh.calls == 1 and len(calls(provider)[-1].messages) == 2

        unbounded = await converse(without, "without-1")
        assert [len(c.messages) for c in unbounded] == [2 + 2 * turn for turn in range(20)]


async def test_quota_throttles_one_user_before_the_spend_passes_it(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    quota = 2_000  # tokens a minute; an ordinary request here costs about 100
    async with AsyncExitStack() as stack:
        naive, hardened, without = await three_demos(
            stack, provider, http, tmp_path, "quota", "--quota", str(quota)
        )

        async def spend(demo: Demo, user: str) -> tuple[list[int], int, Answer | None]:
            """A burst of 20 requests of one user at once, then one at a time until refused
            (40 at most): the statuses, the tokens the provider counted, the refusal."""
            before = len(provider.journal)
            burst = await asyncio.gather(*(demo.chat(question(), user_id=user) for _ in range(20)))
            statuses = [a.status for a in burst]
            refusal = None
            for _ in range(40):
                answer = await demo.chat(question(), user_id=user)
                statuses.append(answer.status)
                if answer.status == 429:
                    refusal = answer
                    break
            spent = sum(c.tokens_in + c.tokens_out for c in calls(provider)[before:])
            return statuses, spent, refusal

        statuses, spent, refusal = await spend(naive, "spender")
        assert set(statuses) == {200} and refusal is None and spent > 2 * quota

        statuses, spent, refusal = await spend(hardened, "spender")
        assert spent <= quota  # the provider never saw the user's spend pass the quota
        assert statuses[:20].count(429) >= 10  # the burst was held back before any call
        assert refusal is not None and refusal.calls == 0
        assert "try again" in refusal.body["error"]
        assert 1 <= refusal.body["retry_after"] <= 60
        assert refusal.headers["retry-after"] == str(refusal.body["retry_after"])
        # Refused because the quota was spent, not long before: a request reserves about 470
        # tokens (its prompt estimate plus the 400-token output cap) until it is settled.
        assert spent > quota - 2 * 470
        other = await hardened.chat(question(), user_id="someone-else")
        assert other.status == 200 and other.calls == 1  # other users are not affected

        statuses, spent, refusal = await spend(without, "spender")
        assert set(statuses) == {200} and refusal is None and spent > 2 * quota
