"""The small JSON-path subset target files use: `$`, `$.a.b`, `$.items[0].text`.

Written by hand because the subset is tiny and a full JSONPath library (filters, wildcards)
would accept paths we cannot explain in an error message.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[\"([^\"]+)\"\]")
_MISSING = object()


@functools.lru_cache(maxsize=256)  # a run judges every answer with the same few paths
def compile_path(path: str) -> tuple[str | int, ...]:
    if not path.startswith("$"):
        raise ValueError(f"{path!r}: a JSON path starts with `$`, e.g. `$.answer`")
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if not match:
            raise ValueError(f"{path!r}: cannot read the path at {path[position:]!r}")
        name, index, quoted = match.groups()
        steps.append(int(index) if index is not None else (name or quoted))
        position = match.end()
    return tuple(steps)


def extract(document: Any, path: str) -> Any:
    """The value at `path`, or `None` when any step is missing."""
    value = document
    for step in compile_path(path):
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return None
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return None
            value = value[step]
    return value
