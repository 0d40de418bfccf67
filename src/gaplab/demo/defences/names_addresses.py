"""Finding names and postal addresses where a pattern can: by the words around them.

Without a named-entity model (see `redact.py`) a name is found only where the text says
it is one: after an introduction ("my name is", "I'm", "ich heiße", "je m'appelle", ...),
a title (Mr, Dr, Frau, Mme), a greeting or a sign-off ("Dear", "Regards,"), or right
before contact details already found (`Jane Doe (jane@...)`, `Jane Doe, +1 ...`). A name
is one to four capitalised words (particles such as "de la" allowed), with an optional
title and suffix (Jr., MD, PhD, MBA).

An address is found from its town line (`Springfield, IL 62704`, a UK postcode,
`10115 Berlin`, `León, 25560`), extended back over the lines before it that read as
address lines (a house number and street, `Flat 4`, a place name); a street line with a
street type (`12 Oak Street`, `Hauptstraße 5`, `7, rue de la Paix`) counts on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from gaplab.demo.defences.personal_data import Finding

_UPPER = "".join(re.escape(chr(c)) for c in range(0x41, 0x250) if chr(c).isupper())
_LOWER = "".join(re.escape(chr(c)) for c in range(0x61, 0x250) if chr(c).islower())
# Jane, McKenzie, O'Connor, Ali-Khan, H.-Dieter
CAP = rf"(?:[{_UPPER}]\.-?)?[{_UPPER}][{_UPPER}{_LOWER}'’-]*[{_LOWER}]"
_PARTICLES = r"(?:(?:van|von|de|der|den|du|da|di|del|della|des|la|le|y|zu)\s+){0,2}"
_TITLE = (
    r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Herr|Frau|Mme|Mlle|M|Sra|Srta|Univ\.\s?Prof|"
    r"Dipl\.-Ing|Dipl\.-Kfm|Ing|Mag)\.?"
)
_SUFFIX = (
    r"(?:,?\s+(?:Jr|Sr|II|III|IV|MD|DDS|DVM|PhD|Esq|MBA|B\.\s?Sc|M\.\s?Sc|B\.\s?A|M\.\s?A|"
    r"B\.\s?Eng|M\.\s?Eng|LL\.\s?M)\b\.?)"
)
_NAME = rf"(?:{_TITLE}\s+)*{_PARTICLES}{CAP}(?:\s+{_PARTICLES}{CAP}){{0,3}}{_SUFFIX}?"
_FULL_NAME = rf"(?:{_TITLE}\s+)*{_PARTICLES}{CAP}(?:\s+{_PARTICLES}{CAP}){{1,3}}{_SUFFIX}?"

_STRONG_CUES = (
    r"my\s+name\s+is|(?:full\s+)?name\s*:|nom\s*:|nombre\s*:|named|called|signed|regards,|"
    r"sincerely,|"
    r"best\s+wishes,|cheers,|thanks,|thank\s+you,|dear|hi|hello|mein\s+name\s+ist|ich\s+heiße|"
    r"mit\s+freundlichen\s+grüßen,?|liebe[rs]?|sehr\s+geehrte[rs]?|je\s+m'appelle|mon\s+nom\s+est|"
    r"cordialement,|bonjour|me\s+llamo|mi\s+nombre\s+es|saludos,|mi\s+chiamo|customer\s*:|"
    r"contact\s*:|account\s+holder\s*:|cardholder\s*:|on\s+behalf\s+of"
)
_WEAK_CUES = r"i\s+am|i'm|this\s+is|ich\s+bin|je\s+suis|soy|sono"
_CUED_NAME = re.compile(rf"\b(?i:{_STRONG_CUES})\s+(?P<name>{_NAME})")
_WEAK_CUED_NAME = re.compile(rf"\b(?i:{_WEAK_CUES})\s+(?P<name>{_FULL_NAME})")
# A title names a person, unless a determiner makes it a product ("the Miss Pro").
_TITLED_NAME = re.compile(
    rf"(?<![Tt]he\s)(?<![Mm]y\s)(?<![Yy]our\s)(?<![Oo]ur\s)(?<!\b[Aa]\s)(?<![Aa]n\s)"
    rf"\b(?P<name>{_TITLE}\s+{_PARTICLES}{CAP}(?:\s+{_PARTICLES}{CAP}){{0,2}}{_SUFFIX}?)"
)
_NAME_BEFORE = re.compile(rf"(?P<name>{_FULL_NAME})\s*[(<,:–-]?\s*$")
_NOT_NAMES = frozenset(
    {"Northwind", "Nora", "Order", "Invoice", "Case", "Ticket", "Re", "The", "Our", "Your", "My"}
)
CONTACT_KINDS = frozenset({"email", "phone"})

# --- addresses ----------------------------------------------------------------------------
_STREET_TYPES = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|"
    r"Square|Sq|Terrace|Way|Parkway|Pkwy|Circle|Crescent|Close|Grove|Gardens|Row|Mews|Walk|"
    r"Highway|Hwy|Trail|Plaza|Alley"
)
_UNIT = r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?\s*\w+)"
_FLAT_LINE = r"(?:Flat|Studio|Apartment|Apt\.?|Unit|Suite)\s+\d+\w?"
_HOUSE_FIRST = rf"\d{{1,6}}[A-Za-z]?,?\s+(?:{_PARTICLES}{CAP}\s+){{0,4}}{CAP}\.?{_UNIT}?"
_HOUSE_LAST = rf"{CAP}(?:[-\s]{CAP}){{0,3}}\s+\d{{1,5}}\s?[a-z]?(?:\s?[-/]\s?\d{{1,5}}\s?[a-z]?)?"
_ROMANCE = (
    r"(?:\d{1,5}(?:\s?(?:bis|ter))?,?\s+)?(?i:rue|avenue|av\.|boulevard|bd|place|chemin|allée|"
    r"impasse|quai|route|cours|square|passage|calle|avenida|plaza|paseo|ronda|camino|acceso|"
    r"cañada|carrer|via|viale|piazza|corso|rua|travessa)\s+[^\n,;.]{2,50}"
)
_PLACE = rf"{CAP}(?:[- ]+(?:(?:sur|sous|am|an|der|de|le|la|les|upon|on)[- ]+)?{CAP}){{0,3}}"
_MILITARY = r"(?:PSC|Unit|USNS|USNV|USS|USCGC)\s+[^\n]{1,40}"
_ADDRESS_LINE = re.compile(
    rf"(?:{_FLAT_LINE}|{_HOUSE_FIRST}|{_ROMANCE}|{_HOUSE_LAST}|{_PLACE}|{_MILITARY})"
)
_STREET_TAIL = re.compile(
    rf"(?:{_FLAT_LINE}|{_HOUSE_FIRST}|{_ROMANCE}|{_HOUSE_LAST}|\b{_MILITARY})\s*$"
)
_POSTCODE_UK = r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"
_TOWN_LINE = re.compile(
    rf"\b{_PLACE},\s+[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?\b"  # Springfield, IL 62704
    rf"|{_POSTCODE_UK}"
    rf"|(?:^|(?<=,\s)|(?<=\bin\s))\d{{5}}\s+{_PLACE}"  # 10115 Berlin
    rf"|^\s*{_PLACE},\s+\d{{5}}\b"  # León, 25560
    r"|\b(?:APO|FPO|DPO)\s+(?:AA|AE|AP)\s+\d{5}\b",
    re.MULTILINE,
)
_STREET_ALONE = re.compile(
    rf"\b\d{{1,6}}[A-Za-z]?\s+(?:{CAP}\s+){{1,4}}(?:{_STREET_TYPES})\b\.?{_UNIT}?"
    rf"|\b{CAP}(?:-{CAP})*(?:straße|strasse|str\.|weg|platz|gasse|allee|ring|damm|ufer|"
    r"chaussee|steig|pfad|markt)\s+\d{1,5}\s?[a-z]?(?:\s?[-/]\s?\d{1,5}\s?[a-z]?)?"
    r"|\b\d{1,5}(?:\s?(?:bis|ter))?,\s+(?i:rue|avenue|boulevard|place|chemin|allée|impasse|"
    r"quai|route)\s+[^\n,;.]{2,50}"
    r"|\b(?:PSC|Unit|USNS|USNV|USS|USCGC)\s+\d+,\s+Box\s+\d+"
)
_HOUSE_NUMBER = re.compile(r"\b\d{1,5}[A-Za-z]?(?:\s?(?:bis|ter))?\s*$")  # "91, rue ..."
_MAX_LINES_BACK = 3


def addresses(text: str) -> Iterator[Finding]:
    for match in _TOWN_LINE.finditer(text):
        yield Finding(_address_start(text, match.start()), match.end(), "address")
    for match in _STREET_ALONE.finditer(text):
        yield Finding(match.start(), match.end(), "address")


def _address_start(text: str, start: int) -> int:
    """Where the address ending in the town line at `start` begins: back over whole lines
    that read as address lines, then the street at the end of the line before those."""
    for _ in range(_MAX_LINES_BACK):
        separator = re.search(r"(?:\n|,)[ \t]*$", text[:start])
        if separator is None:
            break
        segment_end = separator.start()
        segment_start = max(text.rfind("\n", 0, segment_end), text.rfind(",", 0, segment_end))
        segment_start += 1
        segment = text[segment_start:segment_end]
        stripped = segment.strip()
        if stripped and _ADDRESS_LINE.fullmatch(stripped):
            start = segment_start + segment.index(stripped)
            continue
        tail = _STREET_TAIL.search(segment) or _HOUSE_NUMBER.search(segment)
        if tail is not None:
            start = segment_start + tail.start()
        break
    return start


def names(text: str, found: Sequence[Finding] = ()) -> Iterator[Finding]:
    """Names by their cue words, and names written right before contact data in `found`."""
    for pattern in (_CUED_NAME, _WEAK_CUED_NAME, _TITLED_NAME):
        for match in pattern.finditer(text):
            finding = _name_finding(match)
            if finding is not None:
                yield finding
    for contact in found:
        if contact.kind not in CONTACT_KINDS:
            continue
        before = _NAME_BEFORE.search(text, max(0, contact.start - 80), contact.start)
        if before is not None:
            finding = _name_finding(before)
            if finding is not None:
                yield finding


def _name_finding(match: re.Match[str]) -> Finding | None:
    name = match.group("name")
    words = [w for w in re.split(r"\s+", name) if w]
    while words and words[0].rstrip(".,") in _NOT_NAMES:  # "Order Desk", "Case Team"...
        words.pop(0)
    if not words:
        return None
    start = match.start("name") + name.index(words[0])
    return Finding(start, match.end("name"), "name")
