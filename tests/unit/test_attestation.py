"""The attestation file: strict model with file:line errors, answers to verdicts (yes, no,
partial, too old, missing), the `lab attest init` template and the demos' own files."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from gaplab.checks.attested import ATTESTED_CHECKS
from gaplab.checks.attested.answers import attested_results, load_attestation
from gaplab.checks.base import EvidenceKind, Verdict
from gaplab.cli import main
from gaplab.errors import InputError
from gaplab.suite.attest_cli import attestation_template

TODAY = datetime.date(2026, 12, 2)
DEMO_FILES = Path(__file__).resolve().parents[2] / "src" / "gaplab" / "demo" / "attest"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "readiness.attest.yaml"
    path.write_text(text)
    return path


def answer(item: str, value: str, when: str = "2026-11-01") -> str:
    return f"  {item}:\n    answer: {value}\n    who: Dana (QA)\n    when: {when}\n    note: n\n"


def verdicts(path: Path) -> dict[str, Verdict]:
    results = attested_results(load_attestation(path), today=TODAY)
    return {r.id: r.verdict for r in results}


def test_yes_passes_partial_warns_no_fails_old_warns_missing_is_not_run(tmp_path: Path) -> None:
    text = "version: 1\nmax_age: 90d\nitems:\n" + "".join(
        [
            answer("testing.unit", "yes"),
            answer("testing.evals", "partial"),
            answer("governance.erasure", "no"),
            answer("cost.batching", "yes", when="2026-06-01"),
        ]
    )
    got = verdicts(write(tmp_path, text))
    assert got["testing.unit"] is Verdict.PASS
    assert got["testing.evals"] is Verdict.WARN
    assert got["governance.erasure"] is Verdict.FAIL
    assert got["cost.batching"] is Verdict.WARN  # 184 days old, max_age 90 days
    assert got["observability.alerts"] is Verdict.NOT_RUN
    assert len(got) == len(ATTESTED_CHECKS) == 10
    results = attested_results(load_attestation(write(tmp_path, text)), today=TODAY)
    old = next(r for r in results if r.id == "cost.batching")
    assert "184 days ago: older than 90 days" in old.summary
    assert {r.evidence.kind for r in results} == {EvidenceKind.ATTESTED}


def test_default_max_age_is_180_days(tmp_path: Path) -> None:
    text = "version: 1\nitems:\n" + answer("testing.unit", "yes", when="2026-06-06")
    assert verdicts(write(tmp_path, text))["testing.unit"] is Verdict.PASS  # 179 days
    text = "version: 1\nitems:\n" + answer("testing.unit", "yes", when="2026-06-04")
    assert verdicts(write(tmp_path, text))["testing.unit"] is Verdict.WARN  # 181 days


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("version: 1\nitems:\n  testing.unit:\n    answer: maybe\n    who: a\n"
         "    when: 2026-01-01\n    note: n\n", ":4:"),
        ("version: 1\nitems:\n  testing.unit:\n    answer: yes\n    who: a\n"
         "    when: 2026-01-01\n", ":3:"),  # no link or note
        ("version: 1\nitems:\n  testing.unit:\n    answer: yes\n    who: a\n"
         "    when: 2026-01-01\n    note: n\n    signed: yes\n", ":8:"),  # unknown key
        ("version: 1\nitems:\n  testing.units:\n    answer: yes\n    who: a\n"
         "    when: 2026-01-01\n    note: n\n", ":3:"),  # unknown item
        ("version: 1\nmax_age: soon\nitems: {}\n", ":2:"),
    ],
)  # fmt: skip
def test_bad_files_are_errors_at_their_line(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_attestation(path)
    assert f"{path}{where}" in str(caught.value)


def test_the_template_lists_every_item_with_its_question_and_loads(tmp_path: Path) -> None:
    text = attestation_template(TODAY)
    for check in ATTESTED_CHECKS:
        assert f"# {check.id}:" in text and check.question in text
    assert set(verdicts(write(tmp_path, text)).values()) == {Verdict.NOT_RUN}
    # Uncommenting one block answers that item.
    block = "  # testing.unit:\n  #   answer: yes"
    assert block in text
    head, _, tail = text.partition(block)
    tail = "  testing.unit:\n    answer: yes" + tail
    for key in ("who: Name (role)", "when: 2026-12-02", "link: https://..."):
        tail = tail.replace(f"  #   {key}", f"    {key}", 1)
    filled = head + tail
    assert verdicts(write(tmp_path, filled))["testing.unit"] is Verdict.PASS


def test_lab_attest_init_writes_the_template_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "mine.attest.yaml"
    first = runner.invoke(main, ["attest", "init", str(target)])
    assert first.exit_code == 0 and "10 attested items" in first.output
    assert "# Q: " in target.read_text()
    again = runner.invoke(main, ["attest", "init", str(target)])
    assert again.exit_code == 2 and "already exists" in again.output
    checked = runner.invoke(main, ["attest", "check", str(target)])
    assert checked.exit_code == 0 and checked.output.count("not_run") == 10


def test_the_demos_ship_attestation_files() -> None:
    hardened = verdicts(DEMO_FILES / "hardened.attest.yaml")
    naive = verdicts(DEMO_FILES / "naive.attest.yaml")
    assert set(hardened.values()) == {Verdict.PASS}
    assert Verdict.FAIL in naive.values() and Verdict.PASS not in naive.values()
    assert set(hardened) == set(naive) == {c.id for c in ATTESTED_CHECKS}
