"""The provider's in-memory journal: a bounded window of recent `ProviderCall` records with
a monotonically increasing cursor, so readers can poll `since` a position and notice when
older records were dropped (the engine keeps the full history in the run's journal file).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from gaplab.provider.journal import ProviderCall

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JournalPage:
    calls: list[ProviderCall]
    next: int  # cursor to pass as `since` next time
    dropped: int  # records older than `since` that are no longer held


class JournalView:
    """Recent calls, at most `capacity`; `total` counts every call ever recorded."""

    def __init__(
        self, capacity: int = 10_000, on_call: Callable[[ProviderCall], None] | None = None
    ) -> None:
        self._records: deque[ProviderCall] = deque(maxlen=capacity)
        self._total = 0
        self._on_call = on_call

    def append(self, call: ProviderCall) -> None:
        self._records.append(call)
        self._total += 1
        if self._on_call is not None:
            try:
                self._on_call(call)
            except Exception:  # a broken listener must not break the provider
                log.exception("on_call listener failed for %s", call.call_id)

    @property
    def total(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[ProviderCall]:
        return iter(list(self._records))

    def __getitem__(self, index: int) -> ProviderCall:
        return self._records[index]

    def since(self, cursor: int = 0, limit: int | None = None) -> JournalPage:
        """Records from position `cursor` (0 = the first call ever) onwards."""
        oldest = self._total - len(self._records)
        start = max(cursor, oldest)
        dropped = max(0, oldest - cursor)
        skip = start - oldest
        calls = list(self._records)[skip:] if skip < len(self._records) else []
        if limit is not None:
            calls = calls[:limit]
        return JournalPage(calls=calls, next=start + len(calls), dropped=dropped)

    def clear(self) -> None:
        """Forget held records (the cursor keeps counting)."""
        self._records.clear()
