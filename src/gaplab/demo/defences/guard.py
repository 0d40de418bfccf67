"""The input guard: screen the whole input for injection and extraction attempts.

`screen(text)` normalises the input (`normalise.screening_views`: NFKC, invisible characters
dropped, homoglyphs and leetspeak folded, base64/hex/percent runs decoded) and looks for
the techniques in `injection_patterns` (instruction override, role play, fake conversation
boundaries, prompt extraction, exfiltration through links) in every view; a pattern runs
only on a view that holds one of its required words (`triggers.py`). A hit is a
`GuardHit` naming the technique; the service then answers a polite refusal and makes no
model call. Pasted documents are part of the message, so hidden instructions in them are
screened the same way.

Written by hand: the guard libraries we looked at need what this machine lacks offline
(LLM Guard and Rebuff run a transformer model or an LLM; NeMo Guardrails calls a model) or
are pattern lists for one language. A pattern screen is the first layer a real service
runs before any classifier, and it is testable line by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from gaplab.demo.defences.injection_patterns import PATTERNS, InjectionPattern
from gaplab.demo.defences.normalise import screening_views
from gaplab.demo.defences.triggers import Literals, Requirements, required_literals


@dataclass(frozen=True)
class GuardHit:
    """Why an input was refused: the technique, the pattern's language, the matching text."""

    technique: str
    language: str
    excerpt: str

    def describe(self) -> str:
        return f"{self.technique} ({self.language}): {self.excerpt!r}"


def screen(text: str, patterns: tuple[InjectionPattern, ...] = PATTERNS) -> GuardHit | None:
    """The first attack found in `text`, or None when it reads as an ordinary message."""
    index = _indexed(patterns)
    for view in screening_views(text):
        lowered = view.lower()
        present = {word for word in index.words if word in lowered}
        for pattern, first, rest in index.entries:
            # Skip a pattern when a word every match of it contains is missing: first by
            # its most selective set (one set operation), then by the others.
            if first is not None and not first & present:
                continue
            if not all(any(word in lowered for word in needed) for needed in rest):
                continue
            match = pattern.regex.search(view)
            if match is not None:
                return GuardHit(pattern.technique, pattern.language, match.group(0)[:120])
    return None


@dataclass(frozen=True)
class _Index:
    entries: tuple[tuple[InjectionPattern, Literals | None, Requirements], ...]
    words: frozenset[str]  # every string of every pattern's most selective set


@lru_cache(maxsize=8)
def _indexed(patterns: tuple[InjectionPattern, ...]) -> _Index:
    entries: list[tuple[InjectionPattern, Literals | None, Requirements]] = []
    for pattern in patterns:
        needs = required_literals(pattern.regex)
        if not needs:
            entries.append((pattern, None, ()))
            continue
        first = max(needs, key=lambda s: min(len(w) for w in s) - 0.01 * len(s))
        entries.append((pattern, first, tuple(n for n in needs if n is not first)))
    words = frozenset(word for _, first, _ in entries for word in first or ())
    return _Index(tuple(entries), words)
