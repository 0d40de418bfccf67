"""Finding personal data with structure: emails, phone numbers, IBANs, card numbers and
national ids (US SSN, UK NINO, German tax id, French NIR).

A candidate is found by its shape, then kept only when its checksum holds (python-stdnum:
IBAN mod-97, Luhn, the German IdNr's ISO 7064 digit and digit-count rule, the NIR's
97-key, the SSN's reserved ranges), so an order number or an invoice number of the right
length is almost never taken for a card or an id. Phone numbers are parsed by
phonenumbers (Google's libphonenumber): one written in international form (`+44 ...`,
`0049 ...`) must be a possible number; a national one (US, UK, DE, FR) must either look
like a phone number (grouped digits, brackets, an extension), start with a trunk 0, or,
when it is any other bare digit run, be a valid US number or follow a word such as
"phone" or "call" or an email address (contact details come together). Digits glued to
letters by a hyphen (`KQX-482135`, `INV-42`) are an identifier, never a phone number. UK
NINOs have no checksum; their letters follow HMRC's rules (no D, F, I, Q, U, V; no O
second) and the format is strict.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import iban, luhn
from stdnum.de import idnr
from stdnum.fr import nir
from stdnum.us import ssn


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: where it is and its kind (`email`, `phone`, ...)."""

    start: int
    end: int
    kind: str


_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![a-z0-9])")
_CARD = re.compile(r"(?<![\w-])(?:[2-6]\d{3}|1800|2131)(?:[ -]?\d){8,15}(?![\w-])")
_NIR = re.compile(r"(?<![\w-])[1278] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\w-])")
_IDNR = re.compile(r"(?<![\w-])[1-9]\d(?:[ ]?\d{3}){3}(?![\w-])")
_SSN = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])")
_SSN_CUE = re.compile(r"(?:ssn|social\s+security(?:\s+number)?)\D{0,12}(\d{9})\b", re.I)
_NINO = re.compile(
    r"(?<![A-Za-z0-9])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-Z]"
    r"(?![A-Za-z0-9])"
)
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+-])(?:\+|00)?\(?\d[\d ().\-/]{5,}\d\)?(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?"
    r"(?![\w-])"
)
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_GROUPED = re.compile(r"\d[ ().\-/]+\d[\d]*[ ().\-/]+\d|^\(|[()]|x|ext", re.I)
_PHONE_REGIONS = ("US", "GB", "DE", "FR")
_PHONE_CUE = re.compile(  # a word naming a phone number, or an email address right before
    r"\b(?:phone|tel|telephone|call|mobile|cell|reach|text|whatsapp|fax|telefon|handy|"
    r"téléphone|portable|teléfono|móvil)\b|@[\w-]+(?:\.[\w-]+)+[\s,;/|]*$",
    re.IGNORECASE,
)


def emails(text: str, own_domains: tuple[str, ...] = ()) -> Iterator[Finding]:
    """Email addresses, except those at `own_domains` (the shop's role addresses)."""
    for match in _EMAIL.finditer(text):
        domain = match.group("domain").lower()
        if any(domain == d or domain.endswith("." + d) for d in own_domains):
            continue
        yield Finding(match.start(), match.end(), "email")


def _checked(
    pattern: re.Pattern[str], kind: str, valid: Callable[[str], bool]
) -> Callable[[str], Iterator[Finding]]:
    def find(text: str) -> Iterator[Finding]:
        for match in pattern.finditer(text):
            found = _longest_valid(match.group(0), valid)
            if found:
                yield Finding(match.start(), match.start() + len(found), kind)

    return find


def _longest_valid(candidate: str, valid: Callable[[str], bool]) -> str:
    """The candidate, or its longest prefix ending at a space, that passes `valid`: a
    greedy shape can take in the next word ("DE89 3704 ... 00 BIC")."""
    while candidate:
        if valid(candidate):
            return candidate
        head, _, _ = candidate.rstrip().rpartition(" ")
        candidate = head
    return ""


def _card_valid(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return 12 <= len(digits) <= 19 and luhn.is_valid(digits)


def _nino_valid(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    return compact[:2] not in {"BG", "GB", "NK", "KN", "TN", "NT"}  # never allocated


ibans = _checked(_IBAN, "iban", iban.is_valid)
cards = _checked(_CARD, "card", _card_valid)
nirs = _checked(_NIR, "national_id", nir.is_valid)
tax_ids = _checked(_IDNR, "national_id", idnr.is_valid)
ninos = _checked(_NINO, "national_id", _nino_valid)


def ssns(text: str) -> Iterator[Finding]:
    for match in _SSN.finditer(text):
        if ssn.is_valid(match.group(0)):
            yield Finding(match.start(), match.end(), "national_id")
    for match in _SSN_CUE.finditer(text):  # nine bare digits only where they are named
        if ssn.is_valid(match.group(1)):
            yield Finding(match.start(1), match.end(1), "national_id")


def phones(text: str) -> Iterator[Finding]:
    """Phone numbers, national (US, UK, DE, FR) or international (see module doc)."""
    for match in _PHONE_CANDIDATE.finditer(text):
        raw = match.group(0).rstrip(" .-/")
        while raw.endswith(")") and raw.count(")") > raw.count("("):
            raw = raw[:-1].rstrip(" .-/")  # the bracket closes the sentence, not the number
        if _DATE.fullmatch(raw) or not _is_phone(raw, text, match.start()):
            continue
        yield Finding(match.start(), match.start() + len(raw), "phone")


def _is_phone(raw: str, text: str, start: int) -> bool:
    digits = re.sub(r"\D", "", re.split(r"(?i)x|ext", raw)[0])
    if not 7 <= len(digits) <= 15:
        return False
    lead = raw.lstrip("(")
    if lead.startswith(("+", "00")):  # international form: the country code says where
        international = "+" + lead[2:] if lead.startswith("00") else lead
        return len(digits) >= 9 or _parses(international, None, possible=True)
    if _GROUPED.search(raw):  # written the way phone numbers are
        return len(digits) >= 9 and any(_parses(raw, r, possible=True) for r in _PHONE_REGIONS)
    if lead.startswith("0"):  # a trunk prefix: a national number in the UK, DE or FR
        return 9 <= len(digits) <= 12 and any(
            _parses(raw, region, possible=True) for region in _PHONE_REGIONS[1:]
        )
    # Any other bare digit run needs a US length, and to be valid there or named a phone.
    if len(digits) not in (10, 11) or not _parses(raw, "US", possible=True):
        return False
    named = _PHONE_CUE.search(text, max(0, start - 60), start) is not None
    return named or _parses(raw, "US", possible=False)


def _parses(raw: str, region: str | None, *, possible: bool) -> bool:
    """Whether `raw` is a possible (or, with `possible=False`, a valid) number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return False
    if possible:
        return bool(phonenumbers.is_possible_number(number))
    return bool(phonenumbers.is_valid_number(number))


STRUCTURED_FINDERS: tuple[Callable[[str], Iterator[Finding]], ...] = (
    ibans,
    cards,
    nirs,
    tax_ids,
    ssns,
    ninos,
    phones,
)
