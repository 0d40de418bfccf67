"""Redaction of personal data: in the user's message before the model sees it, and in the
model's answer before the user does (a model can emit personal data nobody gave it).

`redact(text)` replaces each finding with a typed placeholder (`[email]`, `[phone]`,
`[iban]`, `[card]`, `[national_id]`, `[name]`, `[address]`) and says how many of each it
replaced. Structured data is found with checksums (`personal_data.py`: python-stdnum,
phonenumbers), names and addresses by the words around them (`names_addresses.py`).
Identifiers with no checksum and no personal meaning, such as a case reference
(`KQX-482135`), an order or an invoice number, match none of the detectors and pass
unchanged; nothing here knows what the lab's references look like.

Why not Presidio: its analyzer needs a spaCy language model (`en_core_web_lg`, several
hundred MB) downloaded at run time, which an offline machine cannot fetch; without it
Presidio's pattern recognisers are what we have here, with fewer checksums. Addresses at
the shop's own domain (`support@northwind-bikes.example`) are role addresses, not
personal data, and stay.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from gaplab.demo.defences.names_addresses import addresses, names
from gaplab.demo.defences.personal_data import STRUCTURED_FINDERS, Finding, emails

PLACEHOLDERS = {
    "email": "[email]",
    "phone": "[phone]",
    "iban": "[iban]",
    "card": "[card]",
    "national_id": "[national_id]",
    "name": "[name]",
    "address": "[address]",
}


@dataclass(frozen=True)
class Redaction:
    text: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def find_personal_data(text: str, own_domains: tuple[str, ...] = ()) -> list[Finding]:
    """Non-overlapping findings in `text`, in order; an earlier detector wins an overlap
    (emails, then checksummed ids, then phones, addresses and names)."""
    found: list[Finding] = list(emails(text, own_domains))
    for finder in STRUCTURED_FINDERS:
        found += _without_overlaps(finder(text), found)
    found += _without_overlaps(addresses(text), found)
    found += _without_overlaps(names(text, found), found)
    return sorted(found, key=lambda f: f.start)


def _without_overlaps(candidates: Iterable[Finding], kept: list[Finding]) -> list[Finding]:
    new: list[Finding] = []
    for candidate in candidates:
        if not any(candidate.start < k.end and k.start < candidate.end for k in kept + new):
            new.append(candidate)
    return new


def redact(text: str, own_domains: tuple[str, ...] = ()) -> Redaction:
    """`text` with every piece of personal data replaced by its typed placeholder."""
    findings = find_personal_data(text, own_domains)
    if not findings:
        return Redaction(text)
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(PLACEHOLDERS[finding.kind])
        position = finding.end
    parts.append(text[position:])
    return Redaction("".join(parts), Counter(f.kind for f in findings))
