"""Canaries vary in shape, have no fixed prefix, never look like a reference or personal
data, and follow from the seed; attacker URLs are on reserved hosts."""

from __future__ import annotations

import random
import re
from collections import Counter
from urllib.parse import urlsplit

import phonenumbers
from stdnum import iban, luhn

from gaplab.load.inputs.canaries import SHAPES, attacker_url, canary
from gaplab.load.inputs.reference import REFERENCE_RE

EMAIL = re.compile(r"\S+@\S+")


def _many(seed: int, count: int = 5000) -> list[str]:
    rng = random.Random(seed)
    return [canary(rng) for _ in range(count)]


def test_canaries_vary_in_shape_and_prefix() -> None:
    values = _many(1)
    assert len(set(values)) > 0.99 * len(values)
    prefixes = Counter(v[:3].lower() for v in values)
    assert prefixes.most_common(1)[0][1] < 0.03 * len(values)  # no fixed marker
    shapes = Counter(
        "phrase" if " " in v else "separated" if re.search(r"[-_.]", v) else "solid" for v in values
    )
    assert min(shapes.values()) > 0.1 * len(values)
    lengths = Counter(len(v) for v in values)
    assert len(lengths) >= 15
    # Each shape is used, and codes vary their own layout.
    rng = random.Random(2)
    codes = {re.sub(r"[A-Za-z0-9]", "x", canary(rng, "code")) for _ in range(500)}
    assert len(codes) >= 5
    assert all(canary(rng, shape) for shape in SHAPES)


def test_canaries_never_look_like_references_or_personal_data() -> None:
    for value in _many(3, 20_000):
        assert value.isascii() and not set(value) & set("\"'`“”«»{}<>@")
        assert not REFERENCE_RE.search(value), value
        assert not EMAIL.search(value), value
        digits = "".join(c for c in value if c.isdigit())
        assert not re.search(r"\d{5,}", value), value
        assert len(digits) < 12 or not luhn.is_valid(digits), value
        assert not iban.is_valid(value), value
        assert not re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", value), value  # a "First Last"
        assert not any(
            phonenumbers.is_valid_number(m.number)
            for m in phonenumbers.PhoneNumberMatcher(value, "US")
        ), value


def test_canaries_follow_from_the_seed() -> None:
    assert _many(7, 50) == _many(7, 50)
    assert _many(7, 50) != _many(8, 50)


def test_attacker_urls_are_on_reserved_hosts_and_vary() -> None:
    rng = random.Random(4)
    urls = [attacker_url(rng) for _ in range(500)]
    assert len(set(urls)) == len(urls)
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme == "https" and not parts.query
        assert parts.hostname and parts.hostname.endswith((".example", ".test", ".invalid"))
    assert len({urlsplit(u).hostname for u in urls}) > 50
