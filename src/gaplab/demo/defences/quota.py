"""The `quota` defence: each user may spend `limit` tokens in any `window` seconds.

Before a model call the request reserves what it may cost (its estimated prompt plus the
output cap); a call whose reservation would take the user past the limit is not made,
and the user gets `429 {"error": ..., "retry_after": N}` instead (N: seconds until enough
of the user's spend has left the window). After the call the reservation becomes what the
provider reported in `usage`; when the provider reported nothing (a failed or broken call),
a call that failed before any answer costs nothing and a broken stream keeps its estimate.
Reserving first is what keeps a burst of concurrent requests from one user inside the
budget: counting only finished calls would let every request already in flight through.

Hand-written: a sliding window of (time, tokens) per user is a few lines, and a rate
limiting library counts requests, not variable token costs settled after the fact.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Spend:
    spent: deque[tuple[float, int]] = field(default_factory=deque)
    reserved: int = 0

    def prune(self, cutoff: float) -> None:
        while self.spent and self.spent[0][0] <= cutoff:
            self.spent.popleft()

    @property
    def total(self) -> int:
        return sum(tokens for _, tokens in self.spent) + self.reserved


@dataclass(frozen=True)
class Throttled:
    retry_after: int  # whole seconds, at least 1
    used: int
    limit: int

    def message(self) -> str:
        return (
            f"You have used your AI allowance for now ({self.used:,} of {self.limit:,} tokens "
            f"a minute). Please try again in {self.retry_after} s."
        )


class Reservation:
    """Tokens set aside for one call; `settle` it with what the provider reported."""

    def __init__(self, quota: TokenQuota, user: str, tokens: int) -> None:
        self._quota, self.user, self.tokens = quota, user, tokens
        self._settled = False

    def settle(self, actual: int | None) -> None:
        """Replace the reservation by `actual` tokens (None: keep the estimate as spent)."""
        if self._settled:
            return
        self._settled = True
        self._quota._settle(self.user, self.tokens, self.tokens if actual is None else actual)


class TokenQuota:
    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._users: dict[str, _Spend] = {}

    def used(self, user: str) -> int:
        """Tokens spent (or reserved) by `user` in the current window."""
        spend = self._users.get(user)
        if spend is None:
            return 0
        spend.prune(self._clock() - self.window)
        return spend.total

    def reserve(self, user: str, tokens: int) -> Reservation | Throttled:
        now = self._clock()
        spend = self._users.setdefault(user, _Spend())
        spend.prune(now - self.window)
        used = spend.total
        if used + tokens > self.limit:
            return Throttled(self._wait(spend, used + tokens - self.limit, now), used, self.limit)
        spend.reserved += tokens
        return Reservation(self, user, tokens)

    def _wait(self, spend: _Spend, excess: int, now: float) -> int:
        """Seconds until `excess` tokens of past spend have left the window."""
        freed = 0
        for when, tokens in spend.spent:
            freed += tokens
            if freed >= excess:
                return max(1, math.ceil(when + self.window - now))
        return max(1, math.ceil(self.window))  # held by calls in flight, or too big for any window

    def _settle(self, user: str, reserved: int, actual: int) -> None:
        spend = self._users.setdefault(user, _Spend())
        spend.reserved = max(0, spend.reserved - reserved)
        if actual > 0:
            spend.spent.append((self._clock(), actual))
        if not spend.spent and not spend.reserved:
            del self._users[user]  # idle users take no memory
