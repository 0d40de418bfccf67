"""Obfuscations of a payload's order, applied when a payload is rendered with its canary.

Two sorts: *whole* encodings (base64, ROT13, full-width forms, Unicode tag characters,
backwards) turn the filled-in order, canary included, into something a keyword filter does
not read but a model decodes; *letter* encodings (leetspeak, zero-width characters,
Cyrillic homoglyphs) disguise the words of the order and leave the canary and the URL as
they are, as attackers do to keep them usable. Written by hand: each is a few lines, and
the exact transformations are part of the library's contract (the mock undoes them).
"""

from __future__ import annotations

import base64
import codecs
import re
from collections.abc import Callable

_SLOTS = re.compile(r"\{(canary|url)\}")
_LEET = str.maketrans("aeiostAEIOST", "431057431057")
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")
_HOMOGLYPHS = str.maketrans(
    "aceopxyisjACEHIKMOPSTXY",
    "асеорхуіѕјАСЕНІКМОРЅТХҮ",
)


def fill(template: str, canary: str, url: str) -> str:
    return template.replace("{canary}", canary).replace("{url}", url)


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _rot13(text: str) -> str:
    return codecs.encode(text, "rot13")


def _fullwidth(text: str) -> str:
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )


def _unicode_tags(text: str) -> str:
    return "".join(chr(0xE0000 + ord(c)) if " " <= c <= "~" else c for c in text)


def _reversed(text: str) -> str:
    return text[::-1]


def _leet(text: str) -> str:
    return text.translate(_LEET)


def _zero_width(text: str) -> str:
    out: list[str] = []
    for index, char in enumerate(text):
        out.append(char)
        if char.isalpha() and text[index + 1 : index + 2].isalpha():
            out.append(_ZERO_WIDTH[index % len(_ZERO_WIDTH)])
    return "".join(out)


def _homoglyph(text: str) -> str:
    return text.translate(_HOMOGLYPHS)


WHOLE: dict[str, Callable[[str], str]] = {
    "base64": _base64,
    "rot13": _rot13,
    "fullwidth": _fullwidth,
    "unicode_tags": _unicode_tags,
    "reversed": _reversed,
}
LETTERS: dict[str, Callable[[str], str]] = {
    "leetspeak": _leet,
    "zero_width": _zero_width,
    "homoglyph": _homoglyph,
}


def encode(encoding: str, template: str, canary: str, url: str) -> str:
    """`template` with its canary and URL filled in, obfuscated by `encoding`."""
    if encoding in WHOLE:
        return WHOLE[encoding](fill(template, canary, url))
    transform = LETTERS[encoding]
    pieces = _SLOTS.split(template)  # literal, slot name, literal, slot name, ...
    return "".join(
        (canary if piece == "canary" else url) if index % 2 else transform(piece)
        for index, piece in enumerate(pieces)
    )
