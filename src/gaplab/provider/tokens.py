"""Token counting for prompts, answers and cost: a documented estimator, no vocabulary.

Text is split the way GPT-style BPE tokenizers pre-split it (words with their leading space,
digit groups of up to three, punctuation runs, whitespace); each piece then counts as one
token when short and one more per few extra letters when long, because BPE vocabularies hold
whole common words but cut rare long ones. Calibrated against cl100k/o200k on English prose
(see docs/provider.md for the measured error). Written by hand because the real tokenizers'
vocabularies are downloaded at run time, which the lab may not do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

# Pieces: contractions, a word with an optional leading space, 1-3 digits, punctuation runs,
# whitespace runs. Letters are `[^\W\d_]` because `re` has no `\p{L}`.
_PIECE = re.compile(
    r"'(?:s|t|re|ve|m|ll|d)\b|[ ]?[^\W\d_]+|[ ]?\d{1,3}|[ ]?[^\s\w]+|_+|\s+",
    re.IGNORECASE,
)
_WHOLE_WORD_LETTERS = 7  # words up to this long are usually a single token
_LETTERS_PER_EXTRA = 4  # beyond that, about one more token per this many letters
_PUNCT_PER_TOKEN = 2

# OpenAI's documented chat overhead: tokens per message and to prime the reply.
MESSAGE_OVERHEAD = 3
REPLY_OVERHEAD = 3


def pieces(text: str) -> list[str]:
    """The pre-split pieces of `text`, concatenating back to it exactly."""
    return _PIECE.findall(text)


def piece_tokens(piece: str) -> int:
    core = piece.lstrip(" ")
    if not core:
        return 1
    if core[0].isalpha():
        extra = max(0, len(core) - _WHOLE_WORD_LETTERS)
        return 1 + math.ceil(extra / _LETTERS_PER_EXTRA)
    if core[0].isdigit() or core.isspace():
        return 1
    return math.ceil(len(core) / _PUNCT_PER_TOKEN)


def count_tokens(text: str) -> int:
    """Estimated token count of `text` (0 for empty text)."""
    return sum(piece_tokens(p) for p in _PIECE.findall(text))


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
