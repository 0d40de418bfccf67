"""Request references: short, natural-looking case numbers (`KQX-482135`) that are unique
within a run and follow from (seed, user, sequence) alone.

Each input names its reference in its text ("about case KQX-482135"), so a provider call
can be joined to the user request that caused it by content, even when the target forwards
no correlation header (`gaplab.engine.join`). Uniqueness is structural, not drawn: the
letters are a bijection of the user index (3 letters: 17,576 users) and the digits a
bijection of the user's request number (10^6 per user), both scrambled by the seed so they
look random.
"""

from __future__ import annotations

import re

REFERENCE_RE = re.compile(r"\b[A-Z]{3}-\d{6}\b")
_LETTER_SPACE = 26**3
_DIGIT_SPACE = 10**6
_LETTER_STEP = 7_331  # coprime with 26^3 = 2^3 * 13^3: a bijection of the user index
_DIGIT_STEP = 7_919  # coprime with 10^6: a bijection of the sequence number
MAX_USERS = _LETTER_SPACE


class References:
    """The references of one user's requests: the letters are worked out once."""

    def __init__(self, seed: int, user_index: int) -> None:
        letters = (user_index * _LETTER_STEP + seed * 104_729) % _LETTER_SPACE
        word = ""
        for _ in range(3):
            letters, rest = divmod(letters, 26)
            word += chr(ord("A") + rest)
        self._prefix = word + "-"
        self._offset = seed * 15_485_863 + user_index * 31

    def __getitem__(self, sequence: int) -> str:
        return f"{self._prefix}{(sequence * _DIGIT_STEP + self._offset) % _DIGIT_SPACE:06d}"


def reference(seed: int, user_index: int, sequence: int) -> str:
    """The reference of request `sequence` (0-based) of user `user_index` in run `seed`."""
    return References(seed, user_index)[sequence]


def references_in(text: str) -> list[str]:
    """Every reference named in `text`, in order."""
    return REFERENCE_RE.findall(text)
