"""Durations (`200ms`, `15s`, `2m`) and sizes (`50kb`, `2MB`) as they appear in YAML files.

Pydantic annotated types parse them into floats (seconds) and ints (bytes). A bare number
is read as seconds / bytes so that `for: 10` also works.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_UNIT_BYTES = {
    None: 1,
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}


def parse_duration(value: Any) -> float:
    """Seconds from `1.5s`, `200ms`, `2m`, or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 200ms or 15s")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration (use e.g. 200ms, 15s, 2m)")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError("expected a duration such as 200ms or 15s")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def parse_size(value: Any) -> int:
    """Bytes from `512`, `50kb`, `2MiB`."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 50kb")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a size (use e.g. 512, 50kb, 2MiB)")
        unit = match.group(2).lower() if match.group(2) else None
        size = int(float(match.group(1)) * _UNIT_BYTES[unit])
    else:
        raise ValueError("expected a size such as 50kb")
    if size < 0:
        raise ValueError("a size cannot be negative")
    return size


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|m|h|min|sec))?\s*$")
_RATE_SECONDS = {None: 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_rate(value: Any) -> float:
    """Events per second from `30/s`, `1800/m`, `50000/h`, or a bare number per second."""
    if isinstance(value, bool):
        raise ValueError("expected a rate such as 30/s or 600/m")
    if isinstance(value, int | float):
        rate = float(value)
    elif isinstance(value, str):
        match = _RATE.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a rate (use e.g. 30/s or 600/m)")
        rate = float(match.group(1)) / _RATE_SECONDS[match.group(2)]
    else:
        raise ValueError("expected a rate such as 30/s or 600/m")
    if rate < 0 or rate != rate or rate == float("inf"):
        raise ValueError("a rate must be a finite number, 0 or more")
    return rate


def format_rate(per_second: float) -> str:
    return f"{per_second:g}/s"


def format_duration(seconds: float) -> str:
    if seconds < 1 and seconds != 0:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s"


Duration = Annotated[float, BeforeValidator(parse_duration), PlainSerializer(format_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]
