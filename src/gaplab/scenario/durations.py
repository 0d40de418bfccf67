"""Durations (`200ms`, `15s`, `2m`) and sizes (`50kb`, `2MB`) as they appear in YAML files.

Pydantic annotated types parse them into floats (seconds) and ints (bytes). A bare number
is read as seconds / bytes so that `for: 10` also works. Every value is finite and bounded
(a duration at most 24 h, a rate at most 100,000/s, a size at most 1 TiB): `for: .inf` or
`for: 99999999h` would make a run that never ends, so they are input errors (ValueError,
which pydantic reports with the field's position).
"""

from __future__ import annotations

import math
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


MAX_DURATION = 24 * 3600.0  # seconds: no phase, timeout or SLA of a lab run is longer
MAX_RATE = 100_000.0  # per second: what the load generator's limits allow
MAX_SIZE = 2**40  # bytes


def _number(value: int | float | str) -> float:
    """`float(value)`, with an int too large for a float read as infinity (not an
    OverflowError, which pydantic would let through as a traceback)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def parse_duration(value: Any) -> float:
    """Seconds from `1.5s`, `200ms`, `2m`, or a bare number of seconds; at most 24 h."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 200ms or 15s")
    if isinstance(value, int | float):
        seconds = _number(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration (use e.g. 200ms, 15s, 2m)")
        seconds = _number(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError("expected a duration such as 200ms or 15s")
    if not math.isfinite(seconds):
        raise ValueError("a duration must be finite (and at most 24h)")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds > MAX_DURATION:
        raise ValueError("a duration must be at most 24h")
    return seconds


def parse_size(value: Any) -> int:
    """Bytes from `512`, `50kb`, `2MiB`; at most 1 TiB."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 50kb")
    if isinstance(value, int):
        size: float = value
    elif isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a size (use e.g. 512, 50kb, 2MiB)")
        unit = match.group(2).lower() if match.group(2) else None
        size = _number(match.group(1)) * _UNIT_BYTES[unit]
    else:
        raise ValueError("expected a size such as 50kb")
    if size < 0:
        raise ValueError("a size cannot be negative")
    if size > MAX_SIZE:
        raise ValueError("a size must be at most 1TiB")
    return int(size)


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|m|h|min|sec))?\s*$")
_RATE_SECONDS = {None: 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_rate(value: Any) -> float:
    """Events per second from `30/s`, `1800/m`, `50000/h`, or a bare number per second;
    at most 100,000/s."""
    if isinstance(value, bool):
        raise ValueError("expected a rate such as 30/s or 600/m")
    if isinstance(value, int | float):
        rate = _number(value)
    elif isinstance(value, str):
        match = _RATE.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a rate (use e.g. 30/s or 600/m)")
        rate = _number(match.group(1)) / _RATE_SECONDS[match.group(2)]
    else:
        raise ValueError("expected a rate such as 30/s or 600/m")
    if rate < 0 or math.isnan(rate) or math.isinf(rate):
        raise ValueError("a rate must be a finite number, 0 or more")
    if rate > MAX_RATE:
        raise ValueError("a rate must be at most 100000/s")
    return rate


def format_rate(per_second: float) -> str:
    return f"{per_second:g}/s"


def format_duration(seconds: float) -> str:
    if seconds < 1 and seconds != 0:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s"


Duration = Annotated[float, BeforeValidator(parse_duration), PlainSerializer(format_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]
