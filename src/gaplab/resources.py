"""Where the bundled scenarios, provider profiles and workshop lessons live.

In a wheel they are package data under `gaplab/_bundled/` (pyproject force-includes the
top-level folders there); in a source checkout or editable install they are the top-level
`scenarios/`, `mock_providers/` and `workshop/` folders, which stay the one editable source.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(kind: str) -> Path:
    """`kind` is "scenarios", "mock_providers" or "workshop"."""
    packaged = _PACKAGE / "_bundled" / kind
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent.parent / kind
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"bundled {kind} not found (looked in {packaged} and {checkout})")
