"""What a run folder may hold: secret-looking values masked, and only its owner can read it.

Run folders are typical CI artifacts, and a target file's `env:` and `headers:` carry API
keys and bearer tokens. `mask_secrets` replaces the value of every entry of an `env` or
`headers` mapping (at any depth) whose name looks secret with `***`; other values are kept,
so the copies of the inputs stay readable. Run folders are made 0o700 and every file the
lab writes in them 0o600 (`make_private_dir`, `private_opener`, `create_private_file`,
`write_private_text`, `write_masked_json`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

MASK = "***"
# Names of env variables and headers whose values are secret (case-insensitive).
SECRET_NAME = re.compile(r"key|token|secret|passw(or)?d|authorization|cookie", re.IGNORECASE)
# Mappings whose entries are env variables or headers: `env`, `headers`, `probe_headers`...
_SECRET_HOLDERS = re.compile(r"(^|_)(env|headers)$", re.IGNORECASE)

DIR_MODE = 0o700
FILE_MODE = 0o600


def looks_secret(name: str) -> bool:
    """`OPENAI_API_KEY`, `x-auth-token`, `DB_PASSWORD`, `Authorization`, `Set-Cookie`: True."""
    return SECRET_NAME.search(name) is not None


def mask_secrets(value: Any) -> Any:
    """A copy of `value` (JSON-like data) with secret-looking env and header values masked."""
    if isinstance(value, dict):
        masked: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and _SECRET_HOLDERS.search(key) and isinstance(item, dict):
                masked[key] = {
                    name: MASK if looks_secret(str(name)) and item_value else item_value
                    for name, item_value in item.items()
                }
            else:
                masked[key] = mask_secrets(item)
        return masked
    if isinstance(value, list | tuple):
        return [mask_secrets(item) for item in value]
    return value


def make_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) with the folder itself readable by its owner only."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask, and exist_ok keeps old


def private_opener(path: str | os.PathLike[str], flags: int) -> int:
    """`open(path, mode, opener=private_opener)`: a file created 0o600."""
    return os.open(path, flags, FILE_MODE)


def create_private_file(path: Path) -> None:
    """Create `path` empty, 0o600, unless it exists: what is later opened for appending
    (the journal) keeps that mode."""
    os.close(private_opener(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND))


def write_private_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", opener=private_opener) as file:
        os.fchmod(file.fileno(), FILE_MODE)  # a file that existed keeps its mode otherwise
        file.write(text)


def write_masked_json(path: Path, data: Any) -> None:
    """`data` as indented JSON, secret-looking env and header values masked, mode 0o600."""
    write_private_text(path, json.dumps(mask_secrets(data), indent=2))
