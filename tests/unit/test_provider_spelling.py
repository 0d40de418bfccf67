"""Streams spelled in bulk are the bytes and due times the per-chunk path spells: the fast
path is an optimisation, not a second format."""

from __future__ import annotations

import copy

import pytest

from gaplab.provider.answers import token_chunks
from gaplab.provider.anthropic_wire import AnthropicWire
from gaplab.provider.calls import ChatRequest, Completion
from gaplab.provider.faults import ProviderFault
from gaplab.provider.openai_wire import OpenAIWire
from gaplab.provider.pacer import Schedule
from gaplab.provider.stream import _schedule

TEXTS = [
    'Roll back with "deploy --previous", then check the \\ path, naïve café, 数据.',
    "A second choice: shorter.",
]


def _completion(texts: list[str]) -> Completion:
    chunks = [list(token_chunks(text)) for text in texts]
    return Completion("gpt-4o-mini", texts, "stop", 12, 40, chunks)


def _request(dialect: str, n: int) -> ChatRequest:
    return ChatRequest(dialect, "m", ({"role": "user", "content": "q"},), None, 100, True, n=n)


@pytest.mark.parametrize("wire", [OpenAIWire(), AnthropicWire()], ids=lambda w: w.dialect)
def test_texts_spell_what_text_spells_piece_by_piece(wire: OpenAIWire | AnthropicWire) -> None:
    done = _completion(TEXTS[:1])
    pieces = [piece for piece, _ in done.chunks[0]]
    one_by_one = wire.speller(done, _request(wire.dialect, 1), "req_1", 1700000000)
    bulk = wire.speller(done, _request(wire.dialect, 1), "req_1", 1700000000)
    assert bulk.texts(pieces) == [one_by_one.text(piece) for piece in pieces]
    assert bulk.closing() == one_by_one.closing()  # and the speller's state agrees after


@pytest.mark.parametrize("wire", [OpenAIWire(), AnthropicWire()], ids=lambda w: w.dialect)
def test_the_bulk_schedule_equals_the_per_chunk_one(wire: OpenAIWire | AnthropicWire) -> None:
    texts = TEXTS if wire.dialect == "openai" else TEXTS[:1]
    done = _completion(texts)
    request = _request(wire.dialect, len(texts))
    # An ending fault that strikes after the last token takes the per-chunk path and
    # changes nothing in the chunks it schedules.
    late_cut = ProviderFault(stream="cut", stream_after=10_000)

    def spelled(fault: ProviderFault | None) -> tuple[Schedule, object]:
        speller = wire.speller(copy.deepcopy(done), request, "req_1", 1)
        return _schedule(wire, speller, copy.deepcopy(done), 50.0, 40.0, fault)

    (fast, broken), (slow, _) = spelled(None), spelled(late_cut)
    assert broken is None
    assert len(fast) == len(slow) == sum(len(chunks) for chunks in done.chunks)
    assert list(fast.dues) == list(slow.dues)
    assert list(fast.ends) == list(slow.ends)
    assert fast.blob == slow.blob


def test_schedule_extend_frames_like_add() -> None:
    payloads = [b"data: one\n\n", b"", b"x" * 300]
    added, extended = Schedule(), Schedule()
    for index, payload in enumerate(payloads):
        added.add(float(index), payload)
    extended.extend([0.0, 1.0], payloads[:2])
    extended.extend([2.0], payloads[2:])
    added.seal()
    extended.seal()
    assert (
        extended.blob
        == added.blob
        == b"b\r\ndata: one\n\n\r\n0\r\n\r\n12c\r\n" + b"x" * 300 + b"\r\n"
    )
    assert list(extended.ends) == list(added.ends)
    assert list(extended.dues) == list(added.dues)
