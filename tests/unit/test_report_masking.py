"""PII and secrets planted in a run never reach a report unmasked, in any format."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from gaplab.report.compare import compare, render_compare
from gaplab.report.console import print_scorecard
from gaplab.report.html import render_html
from gaplab.report.markdown import render_markdown
from gaplab.report.masking import Masker
from gaplab.report.writers import write_junit

from .report_runs import (
    PLANTED_EMAIL,
    PLANTED_NAME,
    SECRET_BEARER,
    SECRET_KEY,
    hardened_run,
    naive_run,
)

RAW = (PLANTED_EMAIL, PLANTED_NAME, SECRET_KEY, SECRET_BEARER)


def test_planted_pii_and_secrets_are_masked_in_every_format(tmp_path: Path) -> None:
    run = naive_run()
    journal = json.dumps([e.to_dict() for e in run.events], default=str)
    assert all(value in journal for value in RAW)  # the raw record holds them
    report = run.report()
    write_junit(report, tmp_path / "r.xml")
    console = Console(record=True, width=300, file=io.StringIO())
    print_scorecard(console, report)
    comparison = compare(report, hardened_run().report())
    rendered = {
        "json": json.dumps(report, ensure_ascii=False),
        "junit": (tmp_path / "r.xml").read_text(),
        "markdown": render_markdown([report]),
        "html": render_html([report]),
        "console": console.export_text(),
        "compare.md": render_compare(comparison, "md"),
        "compare.html": render_compare(comparison, "html"),
    }
    for name, text in rendered.items():
        for value in RAW:
            assert value not in text, f"{value!r} unmasked in {name}"
            assert value.split("@")[0] not in text, f"part of {value!r} in {name}"
    # The offending answer is shown (so the masking was tested), masked:
    for name in ("json", "junit", "html"):
        text = rendered[name].replace("&#34;", '"').replace("&#39;", "'")
        assert "Error for [pii.name] <[pii.email]>" in text.replace("&lt;", "<").replace(
            "&gt;", ">"
        ), name
        assert "invalid key [secret]" in text and "Bearer [secret]" in text, name


def test_the_masker_finds_secrets_it_was_not_told_about() -> None:
    masker = Masker()
    text = masker.text(
        "401: Incorrect API key provided: sk-proj-AbC123xyz987LMNOP; headers "
        "Authorization: Bearer abc.DEF-123_456; api_key='q9w8e7r6t5'; AKIAIOSFODNN7EXAMPLE"
    )
    assert text == (
        "401: Incorrect API key provided: [secret]; headers Authorization: Bearer [secret]; "
        "api_key='[secret]'; [secret]"
    )
    assert (
        masker.text("p95 1,303 ms, 2.90 calls per request")
        == "p95 1,303 ms, 2.90 calls per request"
    )


def test_prices_and_decimals_are_not_taken_for_phone_numbers() -> None:
    """The cost checks print dollars with four to six decimals; a phone number groups its
    digits with spaces, dashes or several dots."""
    masker = Masker()
    evidence = (
        "25,019 tokens in, HTTP 200 to the user; $0.1512 paid for them; mean $0.001052, "
        "p95 $0.003783 per request (budget $0.0005); $293,415.26 a month; slope +12.3456; "
        "grows by 64 tokens a turn in turns 11-20 (70 tokens at turn 1, 1,302 at turn 20)"
    )
    assert masker.text(evidence) == evidence
    assert masker.text("call +1 415.555.0100 or 030 1234 5678, or 415.555.0100, 555-0100") == (
        "call [phone] or [phone], or [phone], [phone]"
    )
