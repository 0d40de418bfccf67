"""`lab payloads`: listing, filters, one payload in full, and usage errors (exit 2)."""

from __future__ import annotations

from click.testing import CliRunner

from gaplab.load.payloads import load_library
from gaplab.load.payloads_cli import payloads_command

LIBRARY = load_library()


def _run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(payloads_command, list(args))
    return result.exit_code, result.output.splitlines()


def test_lists_every_payload_with_technique_owasp_kinds_and_preview() -> None:
    code, lines = _run()
    assert code == 0
    assert (
        lines[0] == f"payload library v{LIBRARY.version}: {len(LIBRARY)} of {len(LIBRARY)} payloads"
    )
    assert len(lines) == len(LIBRARY) + 1
    row = next(line for line in lines if line.startswith("exfil-001 "))
    assert "markdown_exfil" in row and "LLM01,LLM02,LLM05" in row and "direct,document" in row
    assert "Ignore previous instructions" in row


def test_filters_narrow_the_list() -> None:
    code, lines = _run("--technique", "obfuscation", "--owasp", "LLM07", "--kind", "extraction")
    expected = LIBRARY.select(["obfuscation"], ["LLM07"], ["extraction"])
    assert code == 0 and len(lines) == len(expected) + 1 and len(expected) >= 5
    assert {line.split()[0] for line in lines[1:]} == {p.id for p in expected}


def test_show_prints_one_payload_with_a_sample_canary() -> None:
    code, lines = _run("--show", "base64-001")
    assert code == 0
    text = "\n".join(lines)
    assert "technique: base64 (obfuscation" in text and "owasp:     LLM01 Prompt Injection" in text
    sample = next(line for line in lines if line.startswith("sample canary: "))
    assert sample.removeprefix("sample canary: ")
    assert _run("--show", "base64-001") == (code, lines)  # seeded
    assert _run("--show", "base64-001", "--seed", "2")[1] != lines


def test_unknown_names_are_usage_errors() -> None:
    for args in (("--show", "override-999"), ("--technique", "bogus"), ("--owasp", "LLM42")):
        code, lines = _run(*args)
        assert code == 2 and lines[-1].startswith("Error: "), args
