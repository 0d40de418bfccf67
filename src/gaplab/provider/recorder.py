"""The provider's journal: a bounded window of recent `ProviderCall` records in memory with
a monotonically increasing cursor, optionally spilling every record to a JSONL file so long
runs keep their full history on disk while memory stays flat.

Readers poll `since(cursor)`; records older than the memory window are read back from the
spill file (a sparse index of line offsets keeps that a short seek), or reported as
`dropped` when there is no spill file.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO

import orjson

from gaplab.provider.journal import ProviderCall

log = logging.getLogger(__name__)
_INDEX_EVERY = 1024  # remember the file offset of every 1024th record


@dataclass(frozen=True)
class JournalPage:
    calls: list[ProviderCall]
    next: int  # cursor to pass as `since` next time
    dropped: int  # records before `next` that could not be returned (no longer held)


class JournalView:
    """Recent calls, at most `capacity` in memory; `total` counts every call recorded."""

    def __init__(
        self,
        capacity: int = 10_000,
        on_call: Callable[[ProviderCall], None] | None = None,
        spill_path: Path | None = None,
    ) -> None:
        self._records: deque[ProviderCall] = deque(maxlen=capacity)
        self._total = 0
        self._on_call = on_call
        self.spill_path = spill_path
        self._spill: IO[bytes] | None = None
        self._offsets: list[int] = []
        if spill_path is not None:
            spill_path.parent.mkdir(parents=True, exist_ok=True)
            self._spill = spill_path.open("wb")

    def append(self, call: ProviderCall) -> None:
        if self.spill_path is not None:
            if self._spill is None:  # closed (a stopped provider started again): carry on
                self._spill = self.spill_path.open("ab")
            if self._total % _INDEX_EVERY == 0:
                self._offsets.append(self._spill.tell())
            self._spill.write(orjson.dumps(call.to_dict()) + b"\n")
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
        position = max(0, cursor)
        oldest = self._total - len(self._records)
        calls: list[ProviderCall] = []
        dropped = 0
        if position < oldest:
            if self.spill_path is not None:
                wanted = oldest - position if limit is None else min(limit, oldest - position)
                calls = self._read_spilled(position, wanted)
                position += len(calls)
            else:
                dropped = oldest - position
                position = oldest
        room = None if limit is None else limit - len(calls)
        if position >= oldest and (room is None or room > 0):
            skip = position - oldest
            held = list(islice(self._records, skip, None if room is None else skip + room))
            calls += held
            position += len(held)
        return JournalPage(calls=calls, next=position, dropped=dropped)

    def _read_spilled(self, start: int, count: int) -> list[ProviderCall]:
        assert self.spill_path is not None
        self.flush()
        block = start // _INDEX_EVERY
        calls: list[ProviderCall] = []
        with self.spill_path.open("rb") as reader:
            reader.seek(self._offsets[block])
            for position, line in enumerate(reader, start=block * _INDEX_EVERY):
                if position < start:
                    continue
                if len(calls) == count:
                    break
                calls.append(ProviderCall.from_dict(orjson.loads(line)))
        return calls

    def flush(self) -> None:
        if self._spill is not None:
            self._spill.flush()

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def clear(self) -> None:
        """Forget held records (the cursor keeps counting)."""
        self._records.clear()
