"""Token counting for prompts, answers and cost: a documented estimator, no vocabulary.

Text is pre-split with the same pattern as OpenAI's cl100k tokenizer (words with their
leading space or sign, digit groups of up to three, punctuation runs, whitespace); each
piece then weighs one token, plus 0.13 per letter beyond six for long words (BPE holds
common words whole and cuts rare long ones) and 0.6 per extra punctuation character. The
weights were fitted on English prose against cl100k; the test suite checks the estimate
stays within 10% of the real tokenizer (docs/provider.md has the measured error). Written
by hand so counts are identical on every install and need no downloaded vocabulary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

# cl100k's pre-tokenizer, with `[^\W\d_]` for \p{L} and `\d` for \p{N} (`re` has neither).
_PIECE = re.compile(
    r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\w]?+[^\W\d_]++|\d{1,3}+| ?(?:[^\s\w]|_)++[\r\n]*+"
    r"|\s++$|\s*[\r\n]|\s+(?!\S)|\s"
)
_WHOLE_WORD_LETTERS = 6  # words up to this long are nearly always one token
_PER_EXTRA_LETTER = 0.13
_PER_EXTRA_PUNCT = 0.6
_ODD_PREFIX = 0.3  # a word glued to a bracket or dash often splits there

# OpenAI's documented chat overhead: tokens per message and to prime the reply.
MESSAGE_OVERHEAD = 3
REPLY_OVERHEAD = 3


def pieces(text: str) -> list[str]:
    """The pre-split pieces of `text`, concatenating back to it exactly."""
    return _PIECE.findall(text)


@lru_cache(maxsize=65_536)  # pieces repeat (words), and the weights are hot in every call
def piece_tokens(piece: str) -> float:
    """The expected number of tokens of one pre-split piece (fractional)."""
    if piece[-1:].isalpha():
        head = piece[0]
        letters = len(piece) - (0 if head.isalpha() else 1)
        weight = 1.0 + max(0, letters - _WHOLE_WORD_LETTERS) * _PER_EXTRA_LETTER
        return weight + (0.0 if head.isalpha() or head == " " else _ODD_PREFIX)
    if piece[:1].isdigit() or piece.isspace():
        return 1.0
    return 1.0 + max(0, len(piece.strip()) - 2) * _PER_EXTRA_PUNCT


def count_tokens(text: str) -> int:
    """Estimated token count of `text` (0 only for empty text)."""
    if not text:
        return 0
    if len(text) <= _CACHED_TEXT:
        return _count_cached(text)
    total = _words_centi(text)
    if total is None:  # odd spacing somewhere: split the whole text
        total = _segment_centi(text)
    return max(1, round(total / 100))


_CACHED_TEXT = 2048  # system prompts and questions repeat; long documents are not kept
_MIN_REPEATS = 4  # per-word counting pays when a distinct word occurs this often on average


@lru_cache(maxsize=8192)
def _count_cached(text: str) -> int:
    return max(1, round(_segment_centi(text) / 100))


@lru_cache(maxsize=65_536)
def _piece_centi(piece: str) -> int:
    """`piece_tokens` in hundredths, as an integer: sums are exact in any order."""
    return round(piece_tokens(piece) * 100)


def _segment_centi(text: str) -> int:
    return sum(map(_piece_centi, _PIECE.findall(text)))


@lru_cache(maxsize=65_536)
def _word_centi(segment: str) -> int:
    return _segment_centi(segment)


def _words_centi(text: str) -> int | None:
    """The weight of a long text, in hundredths, counted per distinct space-separated word.

    A single space between two non-space characters always starts a piece (no piece holds
    a space anywhere but first, and none starting before it can reach past it), so a text
    is the sum of its first word and of " " + each later word; counting each distinct word
    once (prose repeats its words) makes a 100,000-token document about four times as fast
    to count as splitting it whole. None when a boundary is not of that kind (two spaces in
    a row, a space next to a newline), where the caller splits the whole text instead."""
    parts = text.split(" ")
    first, last = parts[0], parts[-1]
    counts = Counter(parts)
    if len(counts) * _MIN_REPEATS > len(parts):
        return None  # few words repeat (ids, encoded data): counting each would cost more
    total = _word_centi(first)
    counts[first] -= 1
    for part, times in counts.items():
        if not times:
            continue
        if not part:
            return None
        if part[0].isspace():  # only the first word may start with whitespace
            return None
        if part[-1].isspace() and not (part == last and times == 1):  # only the last may end so
            return None
        total += times * _word_centi(" " + part)
    return total


def content_text(content: Any) -> str:
    """The text of a message content: a string, or a list of parts / blocks with text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict):
                for key in ("text", "content", "input", "arguments"):
                    value = part.get(key)
                    if isinstance(value, str):
                        texts.append(value)
                    elif isinstance(value, list | dict):
                        texts.append(content_text(value if isinstance(value, list) else [value]))
        return "\n".join(texts)
    if isinstance(content, dict):
        return content_text([content])
    return str(content)


def count_messages(messages: Sequence[dict[str, Any]], extra_texts: Iterable[str] = ()) -> int:
    """Prompt tokens for chat messages (content, names, tool calls) plus fixed overheads."""
    total = REPLY_OVERHEAD
    for message in messages:
        total += MESSAGE_OVERHEAD
        total += count_tokens(content_text(message.get("content")))
        if isinstance(message.get("name"), str):
            total += 1 + count_tokens(message["name"])
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {} if isinstance(call, dict) else {}
            total += count_tokens(str(function.get("name", "")))
            total += count_tokens(str(function.get("arguments", "")))
    for text in extra_texts:
        total += count_tokens(text)
    return total
