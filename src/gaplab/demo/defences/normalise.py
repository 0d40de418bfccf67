"""Normalise text before screening it, so disguised instructions read as plain ones.

`screening_views(text)` gives the texts a screen should look at, most literal first (a
screen matches its patterns in each):

1. the text after NFKC (fullwidth and mathematical letters become ASCII), with invisible
   characters removed (zero-width, bidi controls, soft hyphens, control characters) and
   Unicode tag characters (U+E0020-E007E, "ASCII smuggling") turned back into the ASCII
   they hide; whitespace runs become one space;
2. the same with look-alike letters folded to Latin (Cyrillic `о`, Greek `ο` ... as
   Unicode's confusables table says), leetspeak folded in words that mix letters and digits
   (`1gn0r3` -> `ignore`; plain numbers are left alone), and letters spelt out one by one
   rejoined (`i g n o r e`, `i.g.n.o.r.e`);
3. the literal text in ROT13 and written backwards (both undo themselves);
4. every base64, hex or percent-encoded run that decodes to readable text, normalised the
   same way (one level deep: a decoded run is not decoded again).

The homoglyph table comes from `confusable-homoglyphs`, which ships Unicode's
confusables.txt (UTS #39) as data; folding is what UTS #39 calls a skeleton, restricted to
characters whose confusable is an ASCII letter or digit. The rest is a few lines of
standard-library code: no library does "undo the tricks of a prompt injection" as a whole.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import itertools
import re
import unicodedata
from functools import lru_cache
from urllib.parse import unquote

from confusable_homoglyphs import confusables  # type: ignore[import-untyped]

_TAG_FIRST, _TAG_LAST = 0xE0020, 0xE007E  # tag characters mirroring printable ASCII
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc"})
_KEPT_CONTROLS = frozenset("\n\t")
_WHITESPACE = re.compile(r"[^\S\n]+")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s", "!": "i", "|": "l", "€": "e"})  # fmt: skip
_MIXED_WORD = re.compile(r"[\w@$!|€]*[^\W\d_][\w@$!|€]*")  # a word with at least one letter
_LEET_CHARS = frozenset("0134578@$!|€")
_SPELT_OUT = re.compile(r"\b(?:[^\W\d_][ .\-_*]){3,}[^\W\d_]\b")
_SPELT_SEPARATORS = re.compile(r"[ .\-_*]")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX_RUN = re.compile(r"(?:(?:0x|\\x)?[0-9A-Fa-f]{2}[\s:,]?){8,}")
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}){4,}")
_MIN_READABLE = 0.9  # share of printable characters for a decoded run to count as text
MAX_DECODED_RUNS = 32  # a hostile input full of runs must not make screening slow


def screening_views(text: str) -> list[str]:
    """The texts to screen for `text`: literal, folded, then decoded runs (see module doc)."""
    literal = clean(text)
    views = [literal]
    folded = fold(literal)
    if folded != literal:
        views.append(folded)
    views.append(codecs.encode(literal, "rot13"))
    views.append(literal[::-1])
    for decoded in decoded_runs(literal)[:MAX_DECODED_RUNS]:
        views.append(clean(decoded))
        views.append(fold(clean(decoded)))
    return views


def clean(text: str) -> str:
    """NFKC, tag characters back to ASCII, invisible characters dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_invisible_table())
    return _WHITESPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Look-alike letters to Latin, leetspeak in mixed words, spelt-out words rejoined."""
    text = text.translate(_homoglyph_table())
    text = _MIXED_WORD.sub(_unleet, text)
    return _SPELT_OUT.sub(lambda m: _SPELT_SEPARATORS.sub("", m.group(0)), text)


@lru_cache(maxsize=1)
def _invisible_table() -> dict[int, str | None]:
    """Format and control characters (but newline and tab) to nothing; the tag characters
    that mirror printable ASCII to that ASCII."""
    table: dict[int, str | None] = {}
    planes = itertools.chain(range(0x10000), range(0x1BC00, 0x1BCB0), range(0x1D170, 0x1D180),
                             range(0xE0000, 0xE0080))  # fmt: skip
    for code in planes:
        if unicodedata.category(chr(code)) in _INVISIBLE_CATEGORIES:
            table[code] = None
    for code in range(_TAG_FIRST, _TAG_LAST + 1):
        table[code] = chr(code - 0xE0000)
    for char in _KEPT_CONTROLS:
        table.pop(ord(char), None)
    return table


def _unleet(match: re.Match[str]) -> str:
    word = match.group(0)
    if not any(char in _LEET_CHARS for char in word):
        return word
    core = word.rstrip("!.,;:?")  # trailing punctuation is punctuation, not a letter
    return core.translate(_LEET) + word[len(core) :]


@lru_cache(maxsize=1)
def _homoglyph_table() -> dict[int, str]:
    """Non-ASCII characters whose Unicode confusable is one ASCII letter or digit."""
    table: dict[int, str] = {}
    for char, homoglyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for glyph in homoglyphs:
            target = glyph["c"]
            if len(target) == 1 and target.isascii() and target.isalnum():
                # Unicode folds I and l together; a capital look-alike (Cyrillic І) is an I.
                table[ord(char)] = "I" if target == "l" and char.isupper() else target
                break
    return table


def decoded_runs(text: str) -> list[str]:
    """Readable texts hidden in base64, hex or percent-encoded runs of `text`."""
    found: list[str] = []
    for match in _BASE64_RUN.finditer(text):
        run = match.group(0)
        decoded = _readable(_b64(run))
        if decoded:
            found.append(decoded)
    for match in _HEX_RUN.finditer(text):
        digits = re.sub(r"0x|\\x|[\s:,]", "", match.group(0))
        if len(digits) % 2 == 0:
            decoded = _readable(bytes.fromhex(digits))
            if decoded:
                found.append(decoded)
    for match in _PERCENT_RUN.finditer(text):
        decoded = unquote(match.group(0), errors="strict") if _utf8(match.group(0)) else ""
        if decoded and _is_readable(decoded):
            found.append(decoded)
    return found


def _b64(run: str) -> bytes | None:
    body = run.rstrip("=")
    altchars = b"-_" if ("-" in body or "_" in body) else None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


def _utf8(percent_run: str) -> bool:
    try:
        unquote(percent_run, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def _readable(data: bytes | None) -> str:
    if not data:
        return ""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return text if _is_readable(text) else ""


def _is_readable(text: str) -> bool:
    """Mostly printable, with at least two words: text a person (or a model) would read."""
    printable = sum(1 for char in text if char.isprintable() or char in "\n\t")
    return printable >= _MIN_READABLE * len(text) and len(text.split()) >= 2
