"""Placeholders in target files: `{port}`, `{provider.openai_base_url}`, `{input}`, ...

Only known names are replaced; any other `{...}` is an error at load time, so a typo in a
target file is reported before the run instead of being sent to the target verbatim. JSON
braces in values are safe: a placeholder is `{name}` with a dotted identifier inside.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")

RUN_NAMES = frozenset({"port", "provider.openai_base_url", "provider.anthropic_base_url"})
# `{conversation}`: a conversation turn's session id, empty for any other request.
REQUEST_NAMES = frozenset({"input", "user", "request_id", "conversation", "port"})


def placeholders(value: Any) -> set[str]:
    """Every placeholder name used anywhere inside `value` (strings, lists, dicts)."""
    found: set[str] = set()
    for text in _strings(value):
        found.update(_PLACEHOLDER.findall(text))
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def render(value: Any, names: Mapping[str, str]) -> Any:
    """A copy of `value` with every known placeholder in its strings replaced."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: names.get(m.group(1), m.group(0)), value)
    if isinstance(value, Mapping):
        return {render(k, names): render(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(item, names) for item in value]
    return value


class RequestTemplate:
    """A request template compiled once, rendered per virtual-user request.

    The JSON body is serialised once with its placeholders in place; each request only
    substitutes the JSON-escaped values, which keeps the load generator's cost per request
    low (bench/load.py). Placeholders only ever stand inside JSON strings (keys or values),
    so the substitution yields the same document as rendering the data and serialising it.
    """

    def __init__(self, url: str, headers: Mapping[str, str], body: Any) -> None:
        self._url = url
        self._url_names = sorted(placeholders(url))
        self._headers = dict(headers)
        self._header_names = sorted(placeholders(self._headers))
        self._body = None if body is None else json.dumps(body)
        self._body_names = [] if body is None else sorted(placeholders(body))
        # The serialised body cut at its placeholders: literal bytes and names in turn, so
        # a request joins pieces instead of running a regular expression.
        self._pieces: list[bytes | str] = []
        if self._body is not None:
            position = 0
            for match in _PLACEHOLDER.finditer(self._body):
                self._pieces.append(self._body[position : match.start()].encode())
                self._pieces.append(match.group(1))
                position = match.end()
            self._pieces.append(self._body[position:].encode())

    def url(self, names: Mapping[str, str]) -> str:
        return render(self._url, names) if self._url_names else self._url

    def headers(self, names: Mapping[str, str]) -> dict[str, str]:
        return dict(render(self._headers, names)) if self._header_names else dict(self._headers)

    def body(self, names: Mapping[str, str]) -> str | None:
        data = self.body_bytes(names)
        return None if data is None else data.decode()

    def body_bytes(self, names: Mapping[str, str]) -> bytes | None:
        """The JSON body with each known placeholder replaced by its JSON-escaped value (in
        one pass, so a value that itself contains "{user}" is never substituted again)."""
        if self._body is None:
            return None
        out = []
        for piece in self._pieces:
            if isinstance(piece, bytes):
                out.append(piece)
            elif piece in names:
                out.append(orjson.dumps(names[piece])[1:-1])
            else:
                out.append(b"{" + piece.encode() + b"}")
        return b"".join(out)


def deep_merge(base: Any, extra: Mapping[str, Any]) -> Any:
    """`base` with `extra`'s fields merged in, mappings merged recursively (used for the
    fields an opted-out user's request adds to the body)."""
    if not isinstance(base, Mapping):
        return dict(extra) if base is None else base
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged
