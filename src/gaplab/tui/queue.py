"""Runs shown one after another (a workshop lesson's naive then hardened run; a suite's
scenarios): what is left, how far along, and what to do with the results at the end.

Textual-free: the app asks `next()` for the next run, `record()`s each finished one,
and calls `finish(app)` when the queue is empty; `progress()` is the line the live screen
shows ("run 2 of 5 · about 1:20 left", from the planned durations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gaplab.engine.run import LabRun
from gaplab.headless import Finished


@dataclass(frozen=True)
class QueuedRun:
    label: str  # "naive", "hardened", a scenario name
    build: Callable[[], LabRun]  # raises InputError like Catalog.build_run
    seconds: float = 0.0  # planned duration, for the time left


@dataclass
class RunQueue:
    items: list[QueuedRun]
    done: Callable[[Any, list[tuple[QueuedRun, Finished]]], None]  # (app, results)
    title: str = ""
    results: list[tuple[QueuedRun, Finished]] = field(default_factory=list)
    cancelled: bool = False
    _index: int = 0

    def next(self) -> QueuedRun | None:
        if self.cancelled or self._index >= len(self.items):
            return None
        item = self.items[self._index]
        self._index += 1
        return item

    def record(self, finished: Finished) -> None:
        self.results.append((self.items[self._index - 1], finished))

    def cancel(self) -> None:
        self.cancelled = True

    def progress(self) -> str:
        current = self.items[self._index - 1] if self._index else None
        left = sum(item.seconds for item in self.items[self._index :])
        if current is not None:
            left += current.seconds
        minutes, seconds = divmod(round(left), 60)
        title = f"{self.title}: " if self.title else ""
        name = f" ({current.label})" if current is not None else ""
        return (
            f"{title}run {self._index} of {len(self.items)}{name} · "
            f"about {minutes}:{seconds:02d} left"
        )

    def finish(self, app: Any) -> None:
        self.done(app, self.results)
