"""The answer sanitiser: no raw HTML and no links or images to outside hosts reach the user.

`sanitise_answer(text, allowed_hosts)`:

1. HTML: when the answer holds anything an HTML parser reads as a tag or comment, nh3
   (Python bindings of Ammonia, the Rust sanitiser built on html5ever's spec-compliant
   parser) removes every tag and attribute, and `<script>`/`<style>` with their content;
   autolinks (`<https://...>`) are spelt out as inline links first so they survive for
   step 2; the text is then unescaped so ordinary characters (`&`, `1 < 2`) read as written. An
   entity-encoded tag (`&lt;script&gt;`) that unescaping turns into a real one is cleaned
   again, and text that would still hold a tag is returned escaped, never raw.
2. Markdown: inline links and images `[text](url)` / `![alt](url)`, autolinks `<url>` and
   reference definitions `[id]: url` to a host outside `allowed_hosts` (or with a scheme
   other than http, https and mailto) lose their URL and keep their text. markdown-it-py,
   the CommonMark parser, then reads the result as a renderer would: if it still finds a
   link or image to an outside host (a construct the rewrite missed), every link bracket
   is escaped so nothing renders as a link at all.

Why these libraries: a hand-made tag regex misses what browsers parse (unclosed tags,
`<img/src=x onerror=...>`, comments); Ammonia is maintained, fast, and ships as a wheel.
markdown-it-py is the reference port of markdown-it, so "what renders as a link" is decided
by a real CommonMark parser and not by our regex alone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

_TAG_LIKE = re.compile(r"<[A-Za-z!/?]")
_INLINE_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*)\]"
    r"\(\s*(?P<url><[^<>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)"
)
_AUTOLINK = re.compile(r"<(?P<url>[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
_EMAIL_AUTOLINK = re.compile(r"<(?P<address>[^\s<>@]+@[^\s<>@]+)>")
_REFERENCE_DEFINITION = re.compile(
    r"^ {0,3}\[(?P<label>[^\]\n]+)\]:[ \t]*\n?[ \t]*(?P<url><[^<>\n]*>|\S+)[^\n]*$\n?",
    re.MULTILINE,
)
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_MAX_HTML_PASSES = 3
_markdown = MarkdownIt("commonmark")
REMOVED_LINK = "(link removed)"


def sanitise_answer(text: str, allowed_hosts: Iterable[str]) -> str:
    """`text` without raw HTML and without links or images to hosts outside the list."""
    hosts = tuple(host.lower().strip(".") for host in allowed_hosts)
    return neutralise_links(strip_html(_spell_out_autolinks(text, hosts)), hosts)


def _spell_out_autolinks(text: str, hosts: tuple[str, ...]) -> str:
    """Autolinks before the HTML pass (which reads them as tags and would drop them
    unjudged): `<https://shop/x>` as `[https://shop/x](https://shop/x)`, one to an outside
    host as `(link removed)` (its text is its URL), `<a@b>` as plain `a@b`."""

    def autolink(match: re.Match[str]) -> str:
        url = match.group("url")
        return f"[{url}]({url})" if is_allowed_url(url, hosts) else REMOVED_LINK

    text = _AUTOLINK.sub(autolink, text)
    return _EMAIL_AUTOLINK.sub(lambda m: m.group("address"), text)


def strip_html(text: str) -> str:
    """Every tag and attribute removed (script and style with their content)."""
    for _ in range(_MAX_HTML_PASSES):
        if not _TAG_LIKE.search(text):
            return text
        cleaned = nh3.clean(text, tags=set(), attributes={}, strip_comments=True)
        text = html.unescape(cleaned)
    if _TAG_LIKE.search(text):
        return html.escape(text, quote=False)  # still tag-like after three passes: inert
    return text


def is_allowed_url(url: str, hosts: tuple[str, ...]) -> bool:
    """A relative URL, or http(s)/mailto to one of `hosts` (or a subdomain), nothing else."""
    url = url.strip().strip("<>")
    if any(char in url for char in "\\\t\n\r") or url.startswith("//"):
        return False
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme:
        return not parts.netloc  # a path on the same site
    if scheme not in _SAFE_SCHEMES:
        return False
    if scheme == "mailto":
        domain = parts.path.rpartition("@")[2].split("?")[0].lower()
        return _host_allowed(domain, hosts)
    if "@" in parts.netloc or "%" in parts.netloc:
        return False  # user-info and encoded hosts are how a link hides where it goes
    return _host_allowed(parts.hostname or "", hosts)


def _host_allowed(host: str, hosts: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    return bool(host) and any(host == h or host.endswith("." + h) for h in hosts)


def neutralise_links(text: str, hosts: tuple[str, ...]) -> str:
    """Links and images to outside hosts replaced by their text (see module doc)."""

    def inline(match: re.Match[str]) -> str:
        if is_allowed_url(match.group("url"), hosts):
            return match.group(0)
        return match.group("text")

    def autolink(match: re.Match[str]) -> str:
        return match.group(0) if is_allowed_url(match.group("url"), hosts) else REMOVED_LINK

    def email(match: re.Match[str]) -> str:
        allowed = is_allowed_url("mailto:" + match.group("address"), hosts)
        return match.group(0) if allowed else match.group("address")

    def definition(match: re.Match[str]) -> str:
        return match.group(0) if is_allowed_url(match.group("url"), hosts) else ""

    previous = None
    while previous != text:  # nested links ([![img](a)](b)) come apart one layer a pass
        previous = text
        text = _INLINE_LINK.sub(inline, text)
    text = _AUTOLINK.sub(autolink, text)
    text = _EMAIL_AUTOLINK.sub(email, text)
    text = _REFERENCE_DEFINITION.sub(definition, text)
    if outside_links(text, hosts):
        text = text.replace("[", "\\[").replace("]", "\\]").replace("<", "&lt;")
    return text


def outside_links(text: str, hosts: tuple[str, ...]) -> list[str]:
    """URLs of links and images that a CommonMark renderer would show, outside `hosts`."""
    found: list[str] = []
    for token in _inline_tokens(_markdown.parse(text)):
        url = token.attrs.get("href") if token.type == "link_open" else None
        if token.type == "image":
            url = token.attrs.get("src")
        if isinstance(url, str) and not is_allowed_url(url, hosts):
            found.append(url)
    return found


def _inline_tokens(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _inline_tokens(token.children)
