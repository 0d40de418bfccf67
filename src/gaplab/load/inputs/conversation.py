"""Conversations: a user opens a case with a question, then sends follow-ups about it, turn
after turn (`cost.prompt_growth`: does the prompt grow with every turn?).

A session has `ConversationOptions.turns` turns. Its id (`conv-kqx-482135`, from its first
turn's reference) goes with every turn as `{conversation}` in the target's request. Turn 1
opens the case as an ordinary question does ("Case KQX-482135: ..."); every later turn is a
natural follow-up that names its own reference first, then the session's case ("Follow-up
KQX-482136 on case KQX-482135: And how long will that take?"), so each turn's provider
calls are joined to that turn by the reference in the last user message
(`gaplab.engine.join`), even when the target resends the whole conversation.

A session is stateful where other kinds are not: the user's `UserStream` holds the open
session and takes its next turn before drawing a new kind, so a session's turns are
consecutive requests of one user, reproducible from the seed.
"""

from __future__ import annotations

import random

from gaplab.load.inputs.base import UserInput
from gaplab.load.inputs.questions import question_pool, with_reference
from gaplab.scenario.load_models import ConversationOptions

FOLLOW_UPS = (
    "Thanks. And how long will that take?",
    "Could you explain the second step in more detail?",
    "What should I do if that does not work?",
    "Is there anything I need to prepare first?",
    "Can I do the same from my phone?",
    "Will that affect my other orders?",
    "Who should I contact if it happens again?",
    "Could you sum up what we agreed so far?",
    "Is there a fee for that?",
    "How will I know that it worked?",
    "Does that also apply to orders shipped abroad?",
    "Sorry, one more thing: can I change the delivery date as well?",
    "My colleague asked the same. Does the answer change for a team account?",
    "OK. And what happens to my data in the meantime?",
    "Got it. Is there a deadline for this?",
    "Can you say that again in simpler words?",
)
# The turn's own reference first (what the join looks for), then the session's case.
FOLLOW_UP_OPENERS = (
    "Follow-up {ref} on case {case}: ",
    "Message {ref} about case {case}. ",
    "{ref}, re case {case}: ",
)


def conversation_id(first_reference: str) -> str:
    return "conv-" + first_reference.lower()


class Session:
    """One open conversation: its id, its case, and the turns still to come."""

    def __init__(self, source: ConversationSource, case: str, turns: int) -> None:
        self._source = source
        self.case = case
        self.id = conversation_id(case)
        self.turns = turns
        self.sent = 0

    @property
    def done(self) -> bool:
        return self.sent >= self.turns

    def next(self, rng: random.Random, reference: str) -> UserInput:
        """The next turn; turn 1 opens the case with `reference` as its reference."""
        self.sent += 1
        if self.sent == 1:
            text = with_reference(rng, reference, rng.choice(self._source.openers))
        else:
            opener = rng.choice(FOLLOW_UP_OPENERS).format(ref=reference, case=self.case)
            text = opener + rng.choice(FOLLOW_UPS)
        return UserInput(
            text, ConversationSource.kind, reference, conversation=self.id, turn=self.sent
        )


class ConversationSource:
    kind = "conversation"

    def __init__(self, seed: int, options: ConversationOptions) -> None:
        self.turns = options.turns
        self.openers = question_pool(seed + 2_000_003, 128)

    def open(self, reference: str) -> Session:
        """A new session whose case is `reference` (its first turn's reference)."""
        return Session(self, reference, self.turns)

    def make(self, rng: random.Random, reference: str) -> UserInput:
        """A conversation's first turn alone (for callers that keep no session)."""
        return self.open(reference).next(rng, reference)
