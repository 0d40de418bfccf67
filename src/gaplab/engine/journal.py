"""The run journal: every event as one JSON line in `runs/<run-id>/events.jsonl`.

Line-buffered, so each event reaches the operating system as it happens: a crash or a
SIGKILL loses nothing already written, and `lab report runs/<id>` can rebuild every report.

Provider calls repeat the same long texts (the system prompt in every call, the history of
a conversation): a text of `SHARED_TEXT` characters or more is written once, as a `text`
line with a short hash id, before the first call that uses it, and calls refer to it as
`{"$text": id}`. Reading resolves the references, so every reader sees whole calls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from gaplab.engine.events import Event, ProviderCallRecorded, event_from_dict

JOURNAL_NAME = "events.jsonl"


SHARED_TEXT = 200  # characters: texts this long are journaled once and referred to
TEXT_KIND = "text"


def _text_id(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


class JournalWriter:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] | None = path.open("a", encoding="utf-8", buffering=1)
        self._written: set[str] = set()  # ids of the texts already in the journal

    def __call__(self, event: Event) -> None:
        if self._file is None:
            return
        data = event.to_dict()
        if isinstance(event, ProviderCallRecorded):
            data["call"] = self._shared(data["call"])
        self._file.write(json.dumps(data, default=_default, separators=(",", ":")) + "\n")

    def _shared(self, call: dict[str, Any]) -> dict[str, Any]:
        """The call with its long texts replaced by references (written first if new)."""
        call = dict(call)
        call["system_prompt"] = self._ref(call.get("system_prompt"))
        call["messages"] = [
            {**m, "content": self._ref(m.get("content"))} if isinstance(m, dict) else m
            for m in call.get("messages", ())
        ]
        return call

    def _ref(self, text: Any) -> Any:
        if not isinstance(text, str) or len(text) < SHARED_TEXT:
            return text
        text_id = _text_id(text)
        if text_id not in self._written:
            self._written.add(text_id)
            assert self._file is not None
            line = {"kind": TEXT_KIND, "id": text_id, "text": text}
            self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
        return {"$text": text_id}

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
    texts: dict[str, str] = {}
    with path.open(encoding="utf-8") as file:
        for line in file:
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if data.get("kind") == TEXT_KIND:
                texts[data["id"]] = data["text"]
                continue
            if data.get("kind") == ProviderCallRecorded.kind:
                data["call"] = _resolved(data["call"], texts)
            yield event_from_dict(data)


def _resolved(call: dict[str, Any], texts: dict[str, str]) -> dict[str, Any]:
    def text(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"$text"}:
            return texts.get(value["$text"], "")
        return value

    call["system_prompt"] = text(call.get("system_prompt"))
    call["messages"] = [
        {**m, "content": text(m.get("content"))} if isinstance(m, dict) else m
        for m in call.get("messages", ())
    ]
    return call
