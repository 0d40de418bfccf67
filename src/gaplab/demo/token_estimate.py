"""A token estimate for the hardened demo's cost defences (input limit, history budget,
quota reservations), without a tokenizer vocabulary.

The text is cut the way BPE tokenizers pre-split it: runs of letters, groups of up to three
digits, single punctuation marks. A run of letters costs one token per started 8 letters
(common words are one token, long and rare ones split), every other piece one token. On
English prose this lands within 5 % of OpenAI's cl100k tokenizer (checked in
tests/unit/test_demo_cost_defences.py); on digit-heavy or accented text it runs up to a
quarter low, which is fine for caps of thousands of tokens. Hand-written on purpose: a
vocabulary (tiktoken) is megabytes to load for a number that only has to be about right,
and the demo must start and run offline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_PIECE = re.compile(r"([^\W\d_]+)|\d{1,3}|[^\w\s]|_")
LETTERS_PER_TOKEN = 8
MESSAGE_OVERHEAD = 3  # tokens each chat message costs beyond its text (OpenAI's documented 3)
REPLY_OVERHEAD = 3  # and the reply's priming


def estimate_tokens(text: str) -> int:
    """Estimated tokens of `text` (0 only for text with nothing but whitespace)."""
    total = 0
    for match in _PIECE.finditer(text):
        letters = match.group(1)
        total += -(-len(letters) // LETTERS_PER_TOKEN) if letters else 1
    return total


def estimate_messages(messages: Iterable[Mapping[str, str]]) -> int:
    """Estimated prompt tokens of a chat call's messages."""
    total = REPLY_OVERHEAD
    for message in messages:
        total += MESSAGE_OVERHEAD + estimate_tokens(message.get("content", ""))
    return total
