"""The run journal: every event as one JSON line in `runs/<run-id>/events.jsonl`.

Line-buffered, so each event reaches the operating system as it happens: a crash or a
SIGKILL loses nothing already written, and `lab report runs/<id>` can rebuild every report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pydantic import TypeAdapter, ValidationError

from gaplab.engine.events import EVENT_TYPES, Event

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


@dataclass(frozen=True)
class SkippedLine:
    """A journal line that is not an event, and why (`lab report` warns about each)."""

    number: int  # 1-based
    reason: str

    def __str__(self) -> str:
        return f"line {self.number} ({self.reason})"


_JSON_NAMES = {type(None): "null", bool: "true/false", int: "number", float: "number"}
_JSON_NAMES |= {str: "string", list: "list"}
_ADAPTERS: dict[str, TypeAdapter[Event]] = {}  # built on first use: only `lab report` reads


def _adapter(kind: str, cls: type[Event]) -> TypeAdapter[Event]:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(cls)
    return _ADAPTERS[kind]


def read_journal(path: Path, skipped: list[SkippedLine] | None = None) -> Iterator[Event]:
    """Events from a journal. A line that is not an event (a torn last line after a crash,
    bytes that are not UTF-8, JSON that is not an event object, a kind this version does
    not know, fields of the wrong type) is skipped, and appended to `skipped` when given.

    Events are built and type-checked by pydantic from the event dataclasses, so a damaged
    line is refused here instead of failing later inside a check; the JSON form is the one
    `Event.to_dict` writes (and `event_from_dict` reads)."""
    with path.open("rb") as file:
        for number, raw in enumerate(file, 1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                _skip(skipped, number, "not UTF-8")
                continue
            if not line:
                continue
            try:
                data = json.loads(line)
            except ValueError:
                _skip(skipped, number, "not JSON")
                continue
            if not isinstance(data, dict):
                _skip(skipped, number, f"JSON {_JSON_NAMES[type(data)]}, not an event object")
                continue
            kind = data.pop("kind", None)
            cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
            if cls is None:
                _skip(skipped, number, f"unknown event kind {kind!r}")
                continue
            try:
                event = _adapter(kind, cls).validate_python(data)
            except ValidationError as exc:
                error = exc.errors(include_url=False)[0]
                where = ".".join(str(p) for p in error["loc"])
                _skip(skipped, number, f"{kind} event: {where}: {error['msg']}")
                continue
            yield event


def _skip(skipped: list[SkippedLine] | None, number: int, reason: str) -> None:
    if skipped is not None:
        skipped.append(SkippedLine(number, reason))
