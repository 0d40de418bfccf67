"""Required words of a regular expression: a cheap test that lets a screen skip a pattern.

`required_literals(regex)` reads the compiled pattern's syntax tree and returns sets of
lower-case strings such that every match contains one string of each set (or None when it
cannot tell). A screen that misses every string of one set in the lower-cased text knows
the pattern cannot match and skips it: a substring test is much cheaper than a regex scan, and most
texts contain the words of few patterns. The syntax tree comes from `re._parser`, the
standard library's own parser (private, hence the guard: anything unexpected means "no
shortcut", never a wrong one).
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python 3.11+: the parser behind re.compile
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a future Python without it: no shortcuts
    sre_parse = None
    sre_constants = None

Literals = frozenset[str]
Requirements = tuple[Literals, ...]  # every set must have one of its strings in the text


def required_literals(regex: re.Pattern[str]) -> Requirements | None:
    """Sets of strings (lower-cased) such that a text matching `regex` contains one string
    of every set; None when nothing is certain."""
    if sre_parse is None:
        return None
    try:
        found = _requirements(sre_parse.parse(regex.pattern, regex.flags))
    except Exception:  # an unexpected tree: no shortcut rather than a wrong one
        return None
    return tuple(frozenset(needed) for needed in found) or None


def _requirements(sequence: Any) -> list[set[str]]:
    """Everything a sequence of nodes requires: each literal run, and what its groups,
    repeats (at least once) and alternations require."""
    c = sre_constants
    found: list[set[str]] = []
    run: list[str] = []
    for op, value in [*list(sequence), (None, None)]:
        if op is c.LITERAL:
            run.append(chr(value))
            continue
        if run:
            found.append({"".join(run).lower()})
            run = []
        if op is c.BRANCH:
            branches = [_best(_requirements(branch)) for branch in value[1]]
            if all(branches):
                found.append(set().union(*[b for b in branches if b]))
        elif op is c.SUBPATTERN:
            found += _requirements(value[3])
        elif op is c.ATOMIC_GROUP:
            found += _requirements(value)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and value[0] >= 1:
            found += _requirements(value[2])
    return [needed for needed in found if needed and all(needed)]


def _best(requirements: list[set[str]]) -> set[str] | None:
    """The most selective one requirement: long strings (rarer in text), then few."""
    if not requirements:
        return None
    return max(requirements, key=lambda s: min(len(x) for x in s) - 0.01 * len(s))
