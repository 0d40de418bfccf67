"""The input guard: screen the whole input for injection and extraction attempts.

`screen(text)` normalises the input (`normalise.screening_views`: NFKC, invisible characters
dropped, homoglyphs and leetspeak folded, base64/hex/percent runs decoded) and looks for
the techniques in `injection_patterns` (instruction override, role play, fake conversation
boundaries, prompt extraction, exfiltration through links) in every view. A hit is a
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

from gaplab.demo.defences.injection_patterns import PATTERNS, InjectionPattern
from gaplab.demo.defences.normalise import screening_views


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
    for view in screening_views(text):
        for pattern in patterns:
            match = pattern.regex.search(view)
            if match is not None:
                return GuardHit(pattern.technique, pattern.language, match.group(0)[:120])
    return None
