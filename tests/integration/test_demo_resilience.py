"""The hardened demo's answer checks and retry discipline against the real mock provider.

Bad outputs (a 200 that is no answer), the pinned model, the triage JSON contract: each
lands on naive, is stopped by hardened, and lands again without its defence. Retries: the
provider journal shows exactly one call for every permanent error, no retry before the
provider's retry-after, and never more than three calls for one user request.
"""

from __future__ import annotations

import itertools
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from gaplab.demo.service import FALLBACK_ANSWER, FALLBACK_TRIAGE, TRIAGE_PROMPT
from gaplab.provider.faults import ProviderFault
from gaplab.provider.markers import ERROR_MARKER_RE
from gaplab.provider.server import MockProvider

from .test_demo_security import SHORT, Demo, http, provider, three_demos
from .test_demo_targets import running_demo

__all__ = ["http", "provider"]  # fixtures

_numbers = itertools.count(200_000)


def question(text: str = "Where is my order 1042?") -> str:
    return f"Case KQX-{next(_numbers)}: {text}"  # new each time: the cache stays out of it


@pytest.mark.parametrize("behaviour", ["empty", "refusal", "length", "content_filter"])
async def test_output_check_turns_a_bad_output_into_a_degraded_answer(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path, behaviour: str
) -> None:
    async with AsyncExitStack() as stack:
        naive, hardened, without = await three_demos(
            stack, provider, http, tmp_path, "output_check"
        )
        whole = (await naive.chat(text := question())).text
        provider.set_faults([ProviderFault(behaviour=behaviour)])  # type: ignore[arg-type]
        passed_on = await naive.chat(text)
        assert passed_on.status == 200 and passed_on.body["degraded"] is False
        assert len(passed_on.text) < len(whole)  # empty, or cut: presented as the answer

        checked = await hardened.chat(text)
        assert checked.status == 200 and checked.calls == 1  # no retry: it would come back same
        assert checked.body["degraded"] is True and checked.text == FALLBACK_ANSWER
        assert checked.body["ai_generated"] is False

        unchecked = await without.chat(text)
        assert unchecked.status == 200 and unchecked.body["degraded"] is False
        assert unchecked.text == passed_on.text


async def test_pin_asks_for_the_dated_model_on_every_endpoint(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        naive, hardened, without = await three_demos(stack, provider, http, tmp_path, "pin")

        async def models(demo: Demo) -> set[str | None]:
            before = len(provider.journal)
            await demo.chat(question())
            await demo.stream(question())
            await demo.triage(question("My brakes squeak."))
            return {c.model_requested for c in list(provider.journal)[before:]}

        assert await models(naive) == {"gpt-4o-mini"}
        assert await models(hardened) == {"gpt-4o-mini-2024-07-18"}
        assert await models(without) == {"gpt-4o-mini"}
        async with http.get(hardened.url + "/health") as health:
            assert (await health.json())["model"] == "gpt-4o-mini-2024-07-18"

        # The provider swaps the model anyway: pinned, we can tell (and the log says so).
        provider.set_faults([ProviderFault(model_swap="gpt-4o")])
        swapped = await hardened.chat(question())
        assert swapped.status == 200 and list(provider.journal)[-1].model_served != (
            "gpt-4o-mini-2024-07-18"
        )
    log = (tmp_path / "demo-hardened.log").read_text()
    assert "asked for gpt-4o-mini-2024-07-18, the provider served gpt-4o-2024-08-06" in log


async def test_contract_validates_triage_retries_once_then_degrades(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    ticket = "Case KQX-300001: My rear brake squeaks and the bike pulls to the left."
    async with AsyncExitStack() as stack:
        naive, hardened, without = await three_demos(stack, provider, http, tmp_path, "contract")
        kept = await naive.triage(ticket)  # the model answers the prompt's example's keys
        assert kept.status == 200 and set(kept.body["answer"]) == {"category", "urgency", "summary"}
        call = list(provider.journal)[-1]
        assert call.system_prompt == TRIAGE_PROMPT and call.model_requested == "gpt-4o-mini"
        # A model whose format wraps the object: valid JSON, off the contract. Naive passes
        # it on as the triage; without the contract, so does hardened.
        provider.set_faults([ProviderFault(model_swap="gpt-4.1-mini")])
        trusted = await naive.triage(ticket)
        assert trusted.status == 200 and set(trusted.body["answer"]) == {"result"}
        assert (await without.triage(ticket)).body["answer"].keys() == {"result"}

        checked = await hardened.triage(ticket)
        assert checked.status == 200 and checked.calls == 2  # one retry, stricter
        assert checked.body["answer"] == FALLBACK_TRIAGE and checked.body["degraded"] is True
        first, second = list(provider.journal)[-2:]
        assert len(first.messages) == 2 and len(second.messages) == 3
        correction = str(second.messages[-1]["content"])
        assert "could not be used" in correction and "category: Field required" in correction

        provider.set_faults([ProviderFault(behaviour="invalid_json")])
        crashed = await naive.triage(ticket)
        assert crashed.status == 500 and crashed.body == {"raw": "Internal Server Error"}
        degraded = await hardened.triage(ticket)
        assert degraded.status == 200 and degraded.calls == 2
        assert degraded.body["answer"] == FALLBACK_TRIAGE and degraded.body["degraded"] is True
        # The output check does not validate JSON: without the contract, the 500 is back.
        assert (await without.triage(ticket)).status == 500


async def test_a_triage_that_keeps_the_contract_is_passed_on(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened", *SHORT) as url:
        answer = await Demo(url, provider, http).triage("Case KQX-300002: My brakes squeak.")
    assert answer.status == 200 and answer.body["degraded"] is False and answer.calls == 1
    assert set(answer.body["answer"]) == {"category", "urgency", "summary"}


PERMANENT = [
    ProviderFault(error=400),
    ProviderFault(error=400, should_retry=True),  # the header cannot make a 400 transient
    ProviderFault(error=401),
    ProviderFault(error=403),
    ProviderFault(error=404, code="model_not_found"),
    ProviderFault(error=422),
    ProviderFault(error=400, code="context_length_exceeded"),
    ProviderFault(error=429, code="insufficient_quota"),
]


async def test_permanent_errors_are_never_retried(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened") as url:
        demo = Demo(url, provider, http)
        for fault in PERMANENT:
            provider.set_faults([fault])
            for ask in (demo.chat, demo.triage):
                answer = await ask(question())
                assert answer.calls == 1, fault.describe()  # exactly one call per request
                assert answer.body["degraded"] is True
            before = len(provider.journal)
            streamed = await demo.stream(question())
            assert len(provider.journal) - before == 1, fault.describe()
            assert streamed.events[0][1]["degraded"] is True
        assert len(provider.journal) == 3 * len(PERMANENT)


async def test_context_length_exceeded_from_real_token_counting_is_not_retried(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    # gpt-3.5-turbo-0125 has a 16,385-token window; the input limit allows 20,000 here.
    long = "Please read my order history: " + "order 1042 shipped on Tuesday, " * 2_600
    async with running_demo(provider, tmp_path, "hardened", "--input-tokens", "20000") as url:
        provider.set_faults([ProviderFault(model_swap="gpt-3.5-turbo")])
        answer = await Demo(url, provider, http).chat(long)
    [call] = list(provider.journal)
    assert call.status == 400 and call.tokens_in > 16_385
    assert answer.body["degraded"] is True


async def test_retry_after_is_waited_out_and_a_transient_error_retried(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        naive, hardened, without = await three_demos(
            stack, provider, http, tmp_path, "retry", "--budget", "4s"
        )
        provider.set_faults([ProviderFault(error=429, retry_after=2, first=1)])
        answer = await hardened.chat(question())
        assert answer.status == 200 and answer.body["degraded"] is False and answer.calls == 2
        first, second = list(provider.journal)[-2:]
        assert (first.status, second.status) == (429, 200)
        assert second.t_arrival - first.t_end >= 2.0  # not one moment before it was asked
        assert second.retry_count == 1

        provider.set_faults([ProviderFault(error=503, first=1)])  # one blip, then fine
        recovered = await hardened.chat(question())
        assert recovered.calls == 2 and recovered.body["degraded"] is False
        provider.set_faults([ProviderFault(error=503, first=1)])
        given_up = await without.chat(question())
        assert given_up.calls == 1 and given_up.body["degraded"] is True  # no retry at all
        provider.set_faults([ProviderFault(error=503, first=1)])
        sdk = await naive.chat(question())
        assert sdk.calls == 2 and sdk.status == 200  # the SDK retries too


async def test_one_request_never_costs_more_than_three_calls(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened", "--without", "breaker") as url:
        demo = Demo(url, provider, http)
        provider.set_faults([ProviderFault(error=503)])
        for ask in (demo.chat, demo.triage):  # triage's contract retry shares the three
            answer = await ask(question())
            assert answer.calls == 3 and answer.body["degraded"] is True
            assert not ERROR_MARKER_RE.search(str(answer.body))
        # Off the contract after a blip: 503, then a wrapped object, then a stricter try.
        swap = ProviderFault(model_swap="gpt-4.1-mini")
        provider.set_faults([ProviderFault(error=503, first=1), swap])
        answer = await demo.triage(question())
        assert answer.calls == 3 and answer.body["degraded"] is True
        provider.set_faults([ProviderFault(error=503, first=2), swap])
        answer = await demo.triage(question())
        assert answer.calls == 3  # 503, 503, then the one call left: no stricter try
