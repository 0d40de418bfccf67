"""Placeholders in target files: `{port}`, `{provider.openai_base_url}`, `{input}`, ...

Only known names are replaced; any other `{...}` is an error at load time, so a typo in a
target file is reported before the run instead of being sent to the target verbatim. JSON
braces in values are safe: a placeholder is `{name}` with a dotted identifier inside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")

RUN_NAMES = frozenset({"port", "provider.openai_base_url", "provider.anthropic_base_url"})
REQUEST_NAMES = frozenset({"input", "user", "request_id", "port"})


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
