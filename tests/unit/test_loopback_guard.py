"""Which Host headers and user agents the loopback APIs accept."""

from __future__ import annotations

import pytest

from gaplab.loopback_guard import allowed_hosts, is_loopback, refusal


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LocalHost.",
        "localhost:8474",
        "127.0.0.1",
        "127.255.0.9:1",
        "[::1]",
        "::1",
        "[::1]:80",
        "[::ffff:127.0.0.1]:80",
    ],
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)
    assert refusal({"Host": host}) is None


@pytest.mark.parametrize(
    "host",
    [
        "",
        "evil.example",
        "localhost.evil.example",
        "127.0.0.1.nip.io",
        "10.0.0.1:80",
        "[::2]",
        "0.0.0.0",
        "128.0.0.1",
    ],
)
def test_other_hosts_are_refused(host: str) -> None:
    assert not is_loopback(host)
    assert refusal({"Host": host}) == "Host not allowed"


def test_bound_and_allowed_names_are_accepted_but_wildcards_are_not_names() -> None:
    assert allowed_hosts("0.0.0.0") == frozenset() and allowed_hosts("::") == frozenset()
    allowed = allowed_hosts("10.0.0.5", ["Gaplab"])
    assert allowed == {"10.0.0.5", "gaplab"}
    assert refusal({"Host": "10.0.0.5:8474"}, allowed) is None
    assert refusal({"Host": "gaplab:8080"}, allowed) is None
    assert refusal({"Host": "gaplab.evil:8080"}, allowed) == "Host not allowed"


def test_browsers_are_refused_whatever_the_host() -> None:
    browser = {"User-Agent": "Mozilla/5.0 (Macintosh)", "Host": "127.0.0.1:1"}
    assert refusal(browser) == "User agent not allowed"
    assert refusal({"User-Agent": "OpenAI/Python 2.1.0"}) is None  # no Host: HTTP/1.0
