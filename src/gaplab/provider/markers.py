"""The marker the mock provider puts in every error message it emits.

If a user-facing answer contains it, a raw provider error leaked through the target; the
lab's checks look for `ERROR_MARKER_RE` in what users receive.
"""

from __future__ import annotations

import re

ERROR_MARKER_PREFIX = "[gaplab-provider-error:"
ERROR_MARKER_RE = re.compile(r"\[gaplab-provider-error:([A-Za-z0-9_-]+)\]")


def error_marker(call_id: str) -> str:
    return f"{ERROR_MARKER_PREFIX}{call_id}]"


def marked(message: str, call_id: str) -> str:
    """`message` with the marker appended (once)."""
    if ERROR_MARKER_PREFIX in message:
        return message
    return f"{message} {error_marker(call_id)}"
