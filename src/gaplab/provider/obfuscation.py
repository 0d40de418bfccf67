"""What a model reads through: the readings of a text an obeying model would understand.

A capable model reads an order written in leetspeak, with zero-width characters inside its
words, in Cyrillic look-alike letters, in full-width forms, as invisible Unicode tag
characters, in base64, in ROT13 or backwards. `views(text)` yields each reading the mock
should act on: the normalised text first (invisible characters dropped, NFKC, look-alikes
folded), then decoded base64 runs and tag runs, then ROT13 or reversed text when the text
says so (a model needs to be told), then the leetspeak fold. Each view keeps a `source`
of the same length to copy spans from, so a canary is repeated as written, not as folded.
Written by hand: each decoder is a few lines and no library covers this set.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from collections.abc import Iterator
from functools import cached_property

_PUNCTUATION = "!\"#%&'()*+,-./:;<=>?[\\]^_`{|}~"  # string.punctuation less @ and $ (leetspeak)


class View:
    """One reading: `match` is what the patterns read, `source` (same length) is where
    spans are copied from. Its lower-cased forms and word set are computed once."""

    def __init__(self, match: str, source: str, how: str) -> None:
        self.match = match
        self.source = source
        self.how = how  # plain, base64, unicode_tags, rot13, reversed, leetspeak

    @cached_property
    def lower(self) -> str | None:
        """`match` lower-cased, or None when lower casing changes its length."""
        lower = self.match.lower()
        return lower if len(lower) == len(self.match) else None

    @cached_property
    def words(self) -> str:
        """`lower` with punctuation and line breaks as spaces, one space padding each end
        (aligned with `match` after the first character); "" when `lower` is None."""
        if self.lower is None:
            return ""
        # Bytes translate runs at C speed; ASCII punctuation is never inside a UTF-8 sequence.
        return " " + self.lower.encode().translate(_SPACING).decode() + " "

    @cached_property
    def present(self) -> frozenset[str]:
        return frozenset(self.words.split())


_SPACING = bytes.maketrans(_PUNCTUATION.encode() + b"\n\r\t\f\v", b" " * (len(_PUNCTUATION) + 5))

_INVISIBLE = dict.fromkeys(
    [
        0x00AD,  # soft hyphen
        *range(0x200B, 0x2010),  # zero-width space, joiners, direction marks
        *range(0x202A, 0x202F),  # bidi embeddings
        *range(0x2060, 0x2065),  # word joiner, invisible operators
        *range(0x2066, 0x206A),  # bidi isolates
        0xFEFF,  # zero-width no-break space
        *range(0xE0000, 0xE0080),  # tag characters (decoded separately)
    ]
)
# Cyrillic and Greek letters that look like Latin ones (Unicode confusables, the usual set).
_LOOKALIKES = str.maketrans(
    {
        **dict(zip("аеорсухіјѕһԁԛԝү", "aeopcyxijshdqwy", strict=True)),  # Cyrillic lower
        **dict(zip("АВСЕНІЈКМОРЅТХҮ", "ABCEHIJKMOPSTXY", strict=True)),  # Cyrillic upper
        **dict(zip("αορνικτυχ", "aopviktux", strict=True)),  # Greek lower
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧΥ", "ABEZHIKMNOPTXY", strict=True)),  # Greek upper
    }
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_INVISIBLE_CHARS = frozenset(map(chr, _INVISIBLE))
_LOOKALIKE_MAP = {chr(code): str(latin) for code, latin in _LOOKALIKES.items()}
_LOOKALIKE_CHARS = frozenset(_LOOKALIKE_MAP)
_LEET = str.maketrans("431057@$", "aeiostas")
_LEET_BYTES = bytes.maketrans(b"431057@$", b"aeiostas")
_TAG_RUN = re.compile("[\U000e0020-\U000e007e]{4,}")
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{20,}={0,2}(?![A-Za-z0-9+/=])")
_ROT13_HINTS = ("rot13", "rot-13", "rot 13", "caesar")
_REVERSED_HINTS = ("backward", "reverse", "right to left", "rückwärts", "l'envers", "al revés")
_BASE64_PIECE = 16
_MAX_DECODED = 16  # base64 runs read per text: a document full of them is not an order


def normalise(text: str) -> str:
    """Drop invisible characters, fold compatibility forms (NFKC) and look-alike letters."""
    if text.isascii():
        return text
    # Each step only for the characters present: long texts are mostly ASCII, and
    # str.translate or a regex over many astral characters is slow on them.
    for char in set(_NON_ASCII.findall(text)) & _INVISIBLE_CHARS:
        text = text.replace(char, "")
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    for char in set(_NON_ASCII.findall(text)) & _LOOKALIKE_CHARS:
        text = text.replace(char, _LOOKALIKE_MAP[char])
    return text


def views(text: str, keywords: frozenset[str] = frozenset()) -> Iterator[View]:
    """Every reading of `text` an obeying model would act on, the plain one first.
    `keywords` are the words an order contains: the leetspeak reading is made only when a
    word of the text folds to one of them."""
    normal = normalise(text)
    plain = View(normal, normal, "plain")
    yield plain
    if not text.isascii():
        for run in _TAG_RUN.findall(text):
            decoded = "".join(chr(ord(c) - 0xE0000) for c in run)
            yield View(decoded, decoded, "unicode_tags")
    for run in _base64_runs(plain)[:_MAX_DECODED]:
        readable = _base64_text(run)
        if readable is not None:
            readable = normalise(readable)
            yield View(readable, readable, "base64")
    lower = plain.lower or plain.match.lower()
    if any(hint in lower for hint in _ROT13_HINTS):
        rotated = codecs.decode(plain.match, "rot13")
        yield View(rotated, rotated, "rot13")
    if any(hint in lower for hint in _REVERSED_HINTS):
        backwards = plain.match[::-1]
        yield View(backwards, backwards, "reversed")
    if any(_fold_leet(word) in keywords for word in plain.present if _leetish(word)):
        yield View(_fold_leet(plain.match), plain.match, "leetspeak")


def _leetish(word: str) -> bool:
    """A word with letters and the digits or signs leetspeak puts for letters."""
    return not word.isalpha() and not word.isdigit() and any(c.isalpha() for c in word)


def _fold_leet(text: str) -> str:
    if text.isascii():
        return text.encode().translate(_LEET_BYTES).decode()
    return text.translate(_LEET)


def _base64_runs(view: View) -> list[str]:
    """Base64 runs of the view. A run long enough to hold an order leaves a piece of 16
    characters or more between its + and / signs, so only the whitespace-delimited tokens
    around such pieces are searched (a 50-page document is not scanned whole)."""
    text = view.match
    long_pieces = [word for word in view.present if len(word) >= _BASE64_PIECE]
    if view.lower is None or not long_pieces:
        return _BASE64_RUN.findall(text) if long_pieces else []
    runs: list[str] = []
    for piece in long_pieces:
        position = view.lower.find(piece)
        while position >= 0 and len(runs) < _MAX_DECODED:
            start = max(text.rfind(" ", 0, position), text.rfind("\n", 0, position)) + 1
            ends = [e for e in (text.find(" ", position), text.find("\n", position)) if e >= 0]
            end = min(ends) if ends else len(text)
            runs += _BASE64_RUN.findall(text, start, end)
            position = view.lower.find(piece, end)
    return list(dict.fromkeys(runs))


def _base64_text(run: str) -> str | None:
    """The text a base64 run encodes, or None when it is not base64 of readable text."""
    try:
        raw = base64.b64decode(run + "=" * (-len(run) % 4), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if len(decoded) < 8 or not all(c.isprintable() or c in "\n\t" for c in decoded):
        return None
    return decoded
