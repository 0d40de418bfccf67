"""Check, before a run starts, that every place it will write to can be written.

A run that ends after minutes only to fail writing `--junit` has wasted the CI job; a runs
folder that cannot be created would fail after the lab's parts are up. Both are the user's
input (exit code 2), so they are refused up front with the option and the reason. The checks
leave nothing behind: folders that do not exist yet are created by the run itself, so only
the nearest folder that exists is tried.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from gaplab.errors import InputError


def _nearest_folder(path: Path, what: str) -> Path:
    """`path` itself or its nearest existing ancestor, which must be a folder."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise InputError(f"{what}: {candidate} is a file, not a folder")
            return candidate
    return Path.cwd()  # a relative path whose every part is still to be created


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in `folder`: the only check that sees read-only mounts,
    ACLs and pseudo file systems such as /proc alike."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".gaplab-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"{what}: cannot create a file in {folder} ({reason})") from None


def check_runs_dir(path: Path, option: str = "--runs-dir") -> None:
    """The runs folder is a folder (or can be created) and files can be written in it."""
    what = f"{option} {path}"
    _probe(_nearest_folder(path, what), what)


def check_output_file(path: Path, option: str) -> None:
    """`--json` / `--junit`: the file can be created or replaced (missing folders on its
    way are created by the report writers)."""
    what = f"{option} {path}"
    if path.is_dir():
        raise InputError(f"{what}: is a folder, not a file")
    if path.exists():
        try:
            with path.open("ab"):
                pass
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise InputError(f"{what}: cannot write this file ({reason})") from None
        return
    _probe(_nearest_folder(path.parent, what), what)
