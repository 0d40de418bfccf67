"""The run journal: every event as one JSON line in `runs/<run-id>/events.jsonl`.

Line-buffered, so each event reaches the operating system as it happens: a crash or a
SIGKILL loses nothing already written, and `lab report runs/<id>` can rebuild every report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gaplab.engine.events import Event, event_from_dict

JOURNAL_NAME = "events.jsonl"


class JournalWriter:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] | None = path.open("a", encoding="utf-8", buffering=1)

    def __call__(self, event: Event) -> None:
        if self._file is not None:
            self._file.write(
                json.dumps(event.to_dict(), default=_default, separators=(",", ":")) + "\n"
            )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _default(value: object) -> object:
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    raise TypeError(f"cannot journal {type(value).__name__}")


def read_journal(path: Path) -> Iterator[Event]:
    """Events from a journal; a torn last line (crash mid-write) is skipped."""
    with path.open(encoding="utf-8") as file:
        for line in file:
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
            except ValueError:
                continue
            yield event_from_dict(data)
