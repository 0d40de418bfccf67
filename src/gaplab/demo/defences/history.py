"""The `history` defence: how much of a conversation goes with a new message.

The last `max_turns` turns, and of those only the most recent ones whose estimated tokens
fit in `max_tokens` (a turn too big to fit ends the window, so the history sent is always
the most recent stretch, never a patchwork). Both bounds hold together: a chatty
conversation is cut by turns, one with long pasted messages by tokens, so the prompt of
any turn stays below system prompt + `max_tokens` + the new message, however long the
conversation gets. Without it the naive behaviour: every turn, the whole conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

from gaplab.demo.conversations import Turn
from gaplab.demo.token_estimate import MESSAGE_OVERHEAD, estimate_tokens


def turn_tokens(turn: Turn) -> int:
    return 2 * MESSAGE_OVERHEAD + estimate_tokens(turn.question) + estimate_tokens(turn.answer)


def bounded_history(turns: Sequence[Turn], max_turns: int, max_tokens: int) -> list[Turn]:
    """The most recent turns within both bounds, oldest first."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns[-max_turns:] if max_turns > 0 else ()):
        cost = turn_tokens(turn)
        if used + cost > max_tokens:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    return kept
