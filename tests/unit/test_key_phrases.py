"""The provider's answers name the first phrases of the question; finding them stops at
the last one needed, so a pasted 50-page document costs what its first line costs, with
exactly the phrases a scan of the whole text finds."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gaplab.load.inputs.documents import Tape
from gaplab.load.inputs.prose import corpus
from gaplab.provider.answers import _STOPWORDS, _VERBS, key_phrases


def whole_scan(question: str, limit: int = 3) -> list[str]:
    """The phrases as a scan of the whole text finds them (the rule, written out)."""
    phrases: list[str] = []
    run: list[str] = []
    for token in re.findall(r"[A-Za-z][A-Za-z0-9'-]*|[^\sA-Za-z]+", question + " ."):
        word = token.lower().strip("'-")
        if token[0].isalpha() and len(word) >= 3 and word not in _STOPWORDS:
            run.append(token if any(c.isdigit() for c in token) else word)
            continue
        while run and run[0] in _VERBS:
            run.pop(0)
        phrase = " ".join(run[:2])
        if run and phrase not in phrases and (len(run) > 1 or len(run[0]) >= 4):
            phrases.append(phrase)
        run = []
    return phrases[:limit]


WORDS = st.sampled_from(
    ["rotate", "the", "database", "credentials", "of", "billing", "service", "INV-12345",
     "explain", "a", "to", "SKU42", "refund", "policy", "order", "don't", "-", ",", ".",
     "summarise", "this", "document", "and", "invoice", "q3", "x"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=40), st.integers(min_value=1, max_value=5))
def test_the_first_phrases_are_those_of_the_whole_text(words: list[str], limit: int) -> None:
    question = " ".join(words)
    assert key_phrases(question, limit) == whole_scan(question, limit)


def test_a_pasted_document_gives_the_phrases_of_a_whole_scan() -> None:
    body = Tape(corpus(7)).document(random.Random(1), 25_000)  # about 50 pages
    document = "Summarise this contract for me.\n\n" + body
    assert len(document) > 100_000
    assert key_phrases(document) == whole_scan(document)
