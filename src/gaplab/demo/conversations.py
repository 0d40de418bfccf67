"""Conversations both demos remember: the turns (question and answer) of each conversation
id, in memory.

The naive demo keeps every conversation forever (a plain dict) and resends it whole; the
hardened demo keeps at most `MAX_CONVERSATIONS`, each for `CONVERSATION_TTL` seconds after
its last turn (cachetools' TTLCache), and its `history` defence decides how much of one is
sent (`defences/history.py`).
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass

from cachetools import TTLCache

from gaplab.demo.service import Message

MAX_CONVERSATIONS = 10_000
CONVERSATION_TTL = 3_600.0  # seconds after the last turn


@dataclass(frozen=True)
class Turn:
    question: str  # as it was sent to the model
    answer: str  # as the user got it

    def messages(self) -> list[Message]:
        return [
            {"role": "user", "content": self.question},
            {"role": "assistant", "content": self.answer},
        ]


def as_messages(turns: Sequence[Turn]) -> list[Message]:
    return [message for turn in turns for message in turn.messages()]


class Conversations:
    """Turns by conversation id; an empty id is no conversation (nothing kept)."""

    def __init__(self, store: MutableMapping[str, list[Turn]] | None = None) -> None:
        self._store: MutableMapping[str, list[Turn]] = {} if store is None else store

    @classmethod
    def bounded(cls) -> Conversations:
        return cls(TTLCache(maxsize=MAX_CONVERSATIONS, ttl=CONVERSATION_TTL))

    def turns(self, conversation_id: str) -> list[Turn]:
        if not conversation_id:
            return []
        return list(self._store.get(conversation_id, ()))

    def add(self, conversation_id: str, question: str, answer: str) -> None:
        if not conversation_id:
            return
        turns = self._store.get(conversation_id, [])
        # Re-assigned (not appended in place) so a TTLCache counts the turn as a use.
        self._store[conversation_id] = [*turns, Turn(question, answer)]

    def __len__(self) -> int:
        return len(self._store)
