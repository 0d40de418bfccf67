"""What a virtual user sends, and the ground truth the lab keeps about it.

A `UserInput` is the text of one request plus everything the lab planted in it: the
request's reference (how provider calls are joined back to it), the payload it carries
(by id, technique and OWASP tag), canaries, personal data by type. Checks read that ground
truth instead of guessing from the answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Planted:
    """One value the lab put into an input: `canary`, `pii.email`, `pii.iban`, ..."""

    kind: str
    value: str


@dataclass(frozen=True)
class UserInput:
    text: str
    kind: str  # the input kind: questions, injection, extraction, documents, pii, repeated...
    reference: str = ""  # unique per request; empty for `repeated` (identical on purpose)
    payload: str = ""  # payload id in the library (injection, extraction, hidden instructions)
    technique: str = ""
    owasp: tuple[str, ...] = ()
    planted: tuple[Planted, ...] = ()
    conversation: str = ""  # conversation inputs: the session id and the turn number (1-based)
    turn: int = 0
    tokens: int = 0  # the input's size in tokens, where its source knows it (documents)

    def values(self, prefix: str) -> list[str]:
        """Planted values whose kind starts with `prefix` (e.g. "pii." or "canary")."""
        return [p.value for p in self.planted if p.kind.startswith(prefix)]


class InputSource(Protocol):
    """Makes inputs of one kind. `make` must depend only on `rng` and `reference`, so a
    user's sequence of inputs is the same in every run with the same seed."""

    kind: str

    def make(self, rng: random.Random, reference: str) -> UserInput: ...
