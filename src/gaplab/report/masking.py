"""Personal data masked in everything people read (console, JSON, JUnit, HTML, Markdown).

Exact first: every value the lab planted (in inputs, or made the model emit) is replaced by
its type, `[pii.email]`. Then, as a net for what the lab did not plant, patterns for email
addresses, card-like and IBAN-like numbers and phone-like digit runs, and for secrets: API
keys (`sk-...`, `AKIA...`), bearer tokens, `api_key=...`-style assignments. The journal
(`events.jsonl`) keeps the raw record, so `lab report` can rebuild every report; it is as
sensitive as the inputs it holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from gaplab.engine.record import RunRecord

_PATTERNS = (
    # Secrets first: an API key's digits must not be taken for a phone number.
    (re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{12,}"), "[secret]"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "[secret]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/-]{8,}=*"), r"\1 [secret]"),
    (
        re.compile(
            r"(?i)\b((?:api[_-]?key|access[_-]?token|auth[_-]?token|secret|password|passwd)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]{6,}"
        ),
        r"\1[secret]",
    ),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b"), "[iban]"),
    (re.compile(r"\b\d(?:[ -]?\d){12,18}\b"), "card"),  # masked only when it passes Luhn
    # Phone-like digit groups, but not the lab's own run ids (YYYYMMDD-HHMMSS).
    (
        re.compile(
            r"(?<![\w-])(?!\d{8}-\d{6}\b)\+?\(?\d{1,4}\)?(?:[ .-]?\(?\d{2,4}\)?){2,5}(?![\w-])"
        ),
        "phone",  # masked unless it is a plain decimal number (a price, a ratio)
    ),
)
_PHONE_DIGITS = 7  # the shortest local number; with an area code most have 9 or more
_DECIMAL = re.compile(r"\+?\(?\d+\.\d+\)?")
_MIN_LENGTH = 4  # planted values shorter than this (a bare first name) are not masked


class Masker:
    """Masks the planted values it was given, then anything that looks like PII."""

    def __init__(self, planted: Iterable[tuple[str, str]] = ()) -> None:
        values: dict[str, str] = {}
        for kind, value in planted:
            if kind.startswith("pii.") and len(value) >= _MIN_LENGTH:
                values[value] = f"[{kind}]"
        # Longest first, so a full address is masked before the street name inside it.
        self._known = sorted(values.items(), key=lambda item: len(item[0]), reverse=True)

    @classmethod
    def for_record(cls, record: RunRecord) -> Masker:
        planted = [pair for r in record.requests for pair in r.planted]
        planted += [(k, v) for c in record.calls for k, v in c.planted.items()]
        return cls(planted)

    def text(self, text: str) -> str:
        for value, label in self._known:
            if value in text:
                text = text.replace(value, label)
        for pattern, label in _PATTERNS:
            text = pattern.sub(_REPLACERS.get(label, label), text)
        return text

    def value(self, value: object) -> object:
        """`value` with every string inside it masked (dicts, lists, tuples)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


def _phone(match: re.Match[str]) -> str:
    """A phone number has at least 7 digits, grouped by spaces, dashes or several dots.
    Fewer digits (`turns 11-20 (70 tokens`), or one run of digits, a dot and another
    (`0.1512`, `$0.000023`), are numbers the lab printed (a range, a price, a share), which
    the pattern alone would take for a phone number."""
    found = match.group(0)
    if _DECIMAL.fullmatch(found) or sum(c.isdigit() for c in found) < _PHONE_DIGITS:
        return found
    return "[phone]"


def _card(match: re.Match[str]) -> str:
    """A 13-19 digit run is a card number when its Luhn checksum holds (a run id or an
    order number of that length usually does not)."""
    digits = [int(c) for c in match.group(0) if c.isdigit()]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return "[number]" if total % 10 == 0 else match.group(0)


_REPLACERS: dict[str, Callable[[re.Match[str]], str]] = {"card": _card, "phone": _phone}
