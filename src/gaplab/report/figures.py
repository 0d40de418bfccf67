"""Numbers of the report document written for people: units, rounding, labels.

Markdown, HTML and `lab compare` render every number through these functions, so the same
value reads the same everywhere (the format test checks it). Evidence numbers are
formatted by their key's suffix: `_s` seconds, `_share` a share, `_usd` dollars, `_per_s`
a rate; nested mappings (`error_reasons`) become `HTTP 500 ×180` lists. JUnit, read by
machines, gets the raw values flattened (`flatten`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

VERDICT_LABEL = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "not_run": "NOT RUN"}
_RANK = {"fail": 0, "warn": 1, "pass": 2, "not_run": 3}


def duration(seconds: float | None) -> str:
    """`0.3 ms`, `512 ms`, `1.32 s`, `12.3 s`; `n/a` when unknown."""
    if seconds is None:
        return "n/a"
    if seconds == 0:
        return "0 ms"
    if abs(seconds) < 0.01:
        return f"{seconds * 1000:.1f} ms"
    if abs(seconds) < 1:
        return f"{seconds * 1000:,.0f} ms"
    if abs(seconds) < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:,.1f} s"


def usd(value: float | None) -> str:
    """Two significant digits below a cent (`$0.000026`), cents above (`$1.27`)."""
    if value is None:
        return "n/a"
    if value == 0 or abs(value) >= 0.01:
        return f"${value:,.2f}"
    decimals = -math.floor(math.log10(abs(value))) + 1
    return f"${value:.{decimals}f}"


def share(value: float | None) -> str:
    """0.9 -> `90%`, 0.125 -> `12.5%`."""
    if value is None:
        return "n/a"
    percent = value * 100
    return f"{percent:.0f}%" if percent == round(percent) else f"{percent:.1f}%"


def number(value: Any) -> str:
    """Integers with thousands separators, floats with three significant digits."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        digits = max(0, 2 - math.floor(math.log10(abs(value))))
        return f"{value:,.{digits}f}"
    return str(value)


def ratio(value: float | None) -> str:
    """Calls per request and similar ratios: two decimals, `2.90`."""
    return "n/a" if value is None else f"{value:.2f}"


def score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


def margin(value: float | None) -> str:
    """How far the deciding value sat from its limit, relative."""
    if value is None:
        return "exact rule"
    side = "inside" if value >= 0 else "past"
    return f"{abs(value) * 100:.0f}% {side} its limit"


def label(key: str) -> str:
    """`user_p95_s` -> `user p95`, `outage_calls_per_s` -> `outage calls`."""
    for suffix in ("_per_s", "_share", "_usd", "_s"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
            break
    return key.replace("_", " ")


def value(key: str, raw: Any) -> str:
    """One evidence number, formatted by its key."""
    if isinstance(raw, Mapping):
        return ", ".join(f"{k} ×{value(str(k), v)}" for k, v in raw.items()) or "none"
    if isinstance(raw, list | tuple):  # each item in the key's unit: `600 s, 30.0 s`
        return ", ".join(value(key, v) for v in raw) or "none"
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        return number(raw)
    if key.endswith("_per_s"):
        return f"{number(float(raw))}/s"
    if key.endswith("_share"):
        return share(raw)
    if key.endswith("_usd"):
        return usd(raw)
    if key.endswith("_s"):
        return duration(raw)
    if key in ("rate_ratio",):
        return f"{number(float(raw))}×"
    return number(raw)


def numbers(evidence_numbers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value) for each evidence number, in the check's order."""
    return [(label(k), value(k, v)) for k, v in evidence_numbers.items()]


def flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """`{"error_reasons": {"HTTP 500": 3}}` -> (`error_reasons.HTTP 500`, `3`), raw values."""
    for key, raw in data.items():
        name = f"{prefix}{key}"
        if isinstance(raw, Mapping):
            yield from flatten(raw, name + ".")
        elif isinstance(raw, list | tuple):
            yield name, ", ".join(str(v) for v in raw)
        else:
            yield name, "" if raw is None else str(raw)


def ordered_checks(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failing items first, then warnings and borderline passes, then passes, then the
    undecided; the check order of the scenario within each group."""

    def rank(check: dict[str, Any]) -> int:
        if check["verdict"] == "pass" and check.get("borderline"):
            return 1
        return _RANK[check["verdict"]]

    return sorted(checks, key=rank)


def attention(check: Mapping[str, Any]) -> bool:
    """A failing, warning or borderline item: shown first, with its example requests."""
    return check["verdict"] in ("fail", "warn") or bool(check.get("borderline"))


def fault_cells(phase: Mapping[str, Any]) -> list[str]:
    """Each fault of a phase with what it hit: `provider: error 503 (hit 579 calls)`."""
    hits = {c["fault"]: c for c in phase.get("coverage", [])}
    cells = []
    for fault in phase["faults"]:
        coverage = hits.get(fault)
        if coverage is None or coverage["hits"] is None:
            cells.append(fault)
            continue
        noun = "calls" if coverage["source"] == "provider" else "connections"
        cells.append(f"{fault} (hit {coverage['hits']:,} {noun})")
    return cells
