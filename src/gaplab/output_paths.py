"""Check, before a run starts, that every place it will write to can be written.

A run that ends after minutes only to fail writing `--junit` has wasted the CI job; a runs
folder that cannot be created would fail after the lab's parts are up. Both are the user's
input (exit code 2), so they are refused up front with the option and the reason.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from gaplab.errors import InputError


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in `folder`: the only check that sees read-only mounts,
    ACLs and pseudo file systems such as /proc alike."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".gaplab-probe-"):
            pass
    except OSError as exc:
        raise InputError(f"{what}: cannot create a file in {folder} ({_reason(exc)})") from None


def check_runs_dir(path: Path, option: str = "--runs-dir") -> None:
    """Create the runs folder (as the run would) and make sure files can be written in it."""
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path}: is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot create this folder ({_reason(exc)})") from None
    _probe(path, f"{option} {path}")


def check_output_file(path: Path, option: str) -> None:
    """`--json` / `--junit`: the file can be created or replaced (its folders are created
    as the report writers would create them)."""
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder, not a file")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise InputError(f"{option} {path}: {parent} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        message = f"{option} {path}: cannot create the folder {parent} ({_reason(exc)})"
        raise InputError(message) from None
    if path.exists():
        try:
            with path.open("ab"):
                pass
        except OSError as exc:
            raise InputError(f"{option} {path}: cannot write this file ({_reason(exc)})") from None
    else:
        _probe(parent, f"{option} {path}")
