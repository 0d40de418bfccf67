"""The `cache` defence: repeated identical questions are answered once.

An exact-match cache (cachetools' TTLCache: least recently used out first, each entry
served for `ttl` seconds) keyed on the normalised message: Unicode NFKC, case folded,
runs of whitespace made one space, ends trimmed, so "Where is my order?" and
"where is my  order?" are one question, and "Where is order 1042?" another. The key also
carries a scope (the model id and the system prompt), so an answer is never served for
another prompt. Only messages outside a conversation are cached: in a conversation the
answer depends on the turns before it.

Concurrent misses for one key are coalesced (single flight): the first request asks the
model, the others wait for its answer instead of each calling (a cache that lets a burst
of the same question through is no cache at the moment it matters). If the first request
gets nothing worth caching (a failure, a refusal), the others go on their own.

Only the final AI answer the user got is stored, never a fallback or a refusal; a cached
answer is still an AI answer and is disclosed as one.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from cachetools import TTLCache

_SPACES = re.compile(r"\s+")


def normalise(message: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", message).casefold()).strip()


class Fill:
    """The answer one request will store under a key (None: nothing worth caching)."""

    def __init__(self) -> None:
        self.answer: str | None = None

    def keep(self, answer: str) -> None:
        self.answer = answer


class AnswerCache:
    def __init__(
        self, ttl: float, maxsize: int = 1_024, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._answers: TTLCache[str, str] = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)
        self._pending: dict[str, asyncio.Future[str | None]] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(scope: str, message: str) -> str:
        digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
        return f"{digest}:{normalise(message)}"

    async def lookup(self, key: str) -> str | None:
        """The cached answer, waiting for one being filled right now; None on a miss."""
        answer = self._answers.get(key)
        if answer is None and (pending := self._pending.get(key)) is not None:
            answer = await asyncio.shield(pending)
        if answer is None:
            self.misses += 1
        else:
            self.hits += 1
        return answer

    @asynccontextmanager
    async def filling(self, key: str) -> AsyncIterator[Fill]:
        """Mark `key` as being filled; what the block `keep`s is stored and handed to the
        requests waiting for it (they get None when it kept nothing or failed)."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        fill = Fill()
        try:
            yield fill
        finally:
            if fill.answer is not None:
                self._answers[key] = fill.answer
            if self._pending.get(key) is future:
                del self._pending[key]
            future.set_result(fill.answer)

    def __len__(self) -> int:
        return len(self._answers)
