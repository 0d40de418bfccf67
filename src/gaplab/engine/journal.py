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
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import IO, Any

from pydantic import TypeAdapter, ValidationError

from gaplab.engine.events import EVENT_TYPES, Event, ProviderCallRecorded
from gaplab.provider.journal import ProviderCall

JOURNAL_NAME = "events.jsonl"


SHARED_TEXT = 200  # characters: texts this long are journaled once and referred to
TEXT_KIND = "text"
CALL_BASE_KIND = "call_base"
# A journaled call leaves out every field still at its default, and the fields that are the
# same for most calls of a run (its first call's, written once as a `call_base` line); both
# come back when read. Its times are short already: the run clock counts microseconds.


def _json_default(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


_CALL_DEFAULTS = {
    f.name: _json_default(f.default) for f in fields(ProviderCall) if f.default is not MISSING
} | {
    f.name: _json_default(f.default_factory())
    for f in fields(ProviderCall)
    if f.default_factory is not MISSING
}
_BASE_FIELDS = (
    "dialect", "path", "status", "outcome", "model_requested", "model_served", "stream",
    "read_timeout", "user_agent", "finish_reason",
)  # fmt: skip


_KEEP = object()


def _text_id(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


class JournalWriter:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] | None = path.open("a", encoding="utf-8", buffering=1)
        self._written: set[str] = set()  # ids of the texts already in the journal
        self._base: dict[str, Any] | None = None  # see CALL_BASE_KIND

    def __call__(self, event: Event) -> None:
        if self._file is None:
            return
        data = event.to_dict()
        if isinstance(event, ProviderCallRecorded):
            data["call"] = self._shared(data["call"])
        self._file.write(json.dumps(data, default=_default, separators=(",", ":")) + "\n")

    def _shared(self, call: dict[str, Any]) -> dict[str, Any]:
        """The call with its long texts replaced by references (written first if new), and
        the fields equal to the run's base or to their defaults left out."""
        if self._base is None:
            self._base = {k: call[k] for k in _BASE_FIELDS if k in call}
            assert self._file is not None
            line = {"kind": CALL_BASE_KIND, "call": self._base}
            self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
        base = self._base
        call = {
            k: v
            for k, v in call.items()
            if (base[k] != v if k in base else _CALL_DEFAULTS.get(k, _KEEP) != v)
        }
        if "system_prompt" in call:
            call["system_prompt"] = self._ref(call["system_prompt"])
        if "messages" in call:
            call["messages"] = [
                {**m, "content": self._ref(m.get("content"))} if isinstance(m, dict) else m
                for m in call["messages"]
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
    texts: dict[str, str] = {}  # shared call texts, by id (see JournalWriter)
    base: dict[str, Any] = {}  # the fields most calls share (see CALL_BASE_KIND)
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
            if kind == TEXT_KIND and isinstance(data.get("text"), str):
                texts[str(data.get("id"))] = data["text"]
                continue
            if kind == CALL_BASE_KIND and isinstance(data.get("call"), dict):
                base = data["call"]
                continue
            if kind == ProviderCallRecorded.kind and isinstance(data.get("call"), dict):
                data["call"] = _resolved({**base, **data["call"]}, texts)
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


def _resolved(call: dict[str, Any], texts: dict[str, str]) -> dict[str, Any]:
    def text(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"$text"}:
            return texts.get(value["$text"], "")
        return value

    if "system_prompt" in call:
        call["system_prompt"] = text(call["system_prompt"])
    if "messages" in call:
        call["messages"] = [
            {**m, "content": text(m.get("content"))} if isinstance(m, dict) else m
            for m in call["messages"]
        ]
    return call
