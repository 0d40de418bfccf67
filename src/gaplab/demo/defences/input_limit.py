"""The `input_limit` defence: an input above the cap is refused before anything else runs.

Refusing rather than trimming, by choice: a message cut to its first 8,000 tokens is a
different question (the part that mattered may be at the end), and the user can tell only
if we say so. So an oversized message gets `413 {"error": "... too long ..."}` and no model
call; the limit is in estimated tokens (`token_estimate.py`), the same unit as the cap the
target file declares (`limits.input_tokens`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gaplab.demo.token_estimate import estimate_tokens


@dataclass(frozen=True)
class TooLong:
    tokens: int
    limit: int

    def message(self) -> str:
        return (
            f"Your message is too long: about {self.tokens:,} tokens, and the limit is "
            f"{self.limit:,}. Please shorten it, or send the part you have a question about."
        )


def check_input(text: str, limit: int) -> TooLong | None:
    """`TooLong` when `text` is over `limit` estimated tokens, else None."""
    if len(text) <= limit:  # fewer characters than the cap: cannot be over it (fast path)
        return None
    tokens = estimate_tokens(text)
    return TooLong(tokens, limit) if tokens > limit else None
