"""A token estimate for the hardened demo's cost defences (input limit, history budget,
quota reservations), without a tokenizer vocabulary.

`estimate_tokens(text)` is the larger of two rules of thumb: a quarter of the characters
(OpenAI's "1 token is about 4 characters of English"), and one token per word or
punctuation mark (BPE keeps common words whole, and splits off each mark). The first rule
dominates on long words, the second on short words, digits and punctuation, so the
estimate rarely falls far below a real tokenizer's count (on English prose it is within
about 15 % of cl100k, above it more often than below). Hand-written on purpose: a
vocabulary (tiktoken) is megabytes to load for a number that only has to be about right.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

_PIECE = re.compile(r"[^\W_]+|[^\w\s]|_")
MESSAGE_OVERHEAD = 3  # tokens each chat message costs beyond its text (OpenAI's documented 3)
REPLY_OVERHEAD = 3  # and the reply's priming


def estimate_tokens(text: str) -> int:
    """Estimated tokens of `text` (0 only for empty text)."""
    if not text:
        return 0
    return max(math.ceil(len(text) / 4), len(_PIECE.findall(text)))


def estimate_messages(messages: Iterable[Mapping[str, str]]) -> int:
    """Estimated prompt tokens of a chat call's messages."""
    total = REPLY_OVERHEAD
    for message in messages:
        total += MESSAGE_OVERHEAD + estimate_tokens(message.get("content", ""))
    return total
