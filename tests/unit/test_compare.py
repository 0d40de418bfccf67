"""`lab compare`: flipped verdicts, new and removed items, the deltas of the deciding
figures, on report documents and on run folders (report.json, or the journal alone)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gaplab.cli import main
from gaplab.report.compare import compare, load_run

from .html_index import HTMLIndex
from .report_runs import hardened_run, naive_run


@pytest.fixture(scope="module")
def reports() -> tuple[dict, dict]:  # type: ignore[type-arg]
    return naive_run().report(run_id="naive"), hardened_run().report(
        run_id="hardened", target="demo:hardened"
    )


def _figure(comparison: dict, name: str, scope: str):  # type: ignore[no-untyped-def,type-arg]
    return next(f for f in comparison["figures"] if f.name == name and f.scope == scope)


def test_flipped_verdicts_and_the_deltas_that_decided_them(reports: tuple[dict, dict]) -> None:  # type: ignore[type-arg]
    naive, hardened = reports
    c = compare(naive, hardened)
    changed = {row["id"]: (row["a"], row["b"], row["change"]) for row in c["changed"]}
    assert changed == {
        "resilience.fallback": ("fail", "pass", "better"),
        "resilience.no_retry_storm": ("fail", "pass", "better"),
        "resilience.circuit_breaker": ("fail", "pass", "better"),
    }
    assert {row["id"] for row in c["unchanged"]} == {
        "resilience.recovery", "resilience.contained", "resilience.timeout",
    }  # fmt: skip
    fallback = next(row for row in c["changed"] if row["id"] == "resilience.fallback")
    numbers = {name: (a, b) for name, a, b in fallback["numbers"]}
    assert numbers["error"] == ("99", "0") and numbers["degraded"] == ("0", "100")
    assert c["a"]["headline"].startswith("NOT READY") and c["b"]["headline"].startswith("READY")

    amplification = _figure(c, "calls per request", "outage")
    # The last outage requests' retries arrive in recovery: 288 calls for 100 requests.
    assert (amplification.a, amplification.b) == (2.88, pytest.approx(0.05))
    assert amplification.direction == "better" and amplification.delta_text() == "−2.83"
    p95 = _figure(c, "user p95", "outage")
    assert p95.text(p95.a) == "1.30 s" and p95.text(p95.b) == "50 ms"
    assert p95.delta_text() == "−1.25 s" and p95.direction == "better"
    rate = _figure(c, "upstream rate", "outage")
    assert (rate.a, rate.b) == (pytest.approx(28.8), pytest.approx(0.5))
    errors = _figure(c, "error rate", "outage")
    assert (errors.text(errors.a), errors.text(errors.b), errors.delta_text()) == (
        "100%", "0%", "−100 pt",
    )  # fmt: skip
    unsafe = _figure(c, "unsafe answers", "run")
    assert (unsafe.a, unsafe.b, unsafe.direction) == (1, 0, "better")
    cost = _figure(c, "cost per request (mean)", "baseline")
    assert cost.text(cost.a) == "$0.000030" and cost.text(cost.b) == "$0.000021"
    assert cost.direction == "better"
    same = _figure(c, "ok rate", "baseline")
    assert same.direction == "same" and same.delta_text() == "±0 pt"


def test_new_and_removed_items(reports: tuple[dict, dict]) -> None:  # type: ignore[type-arg]
    naive, hardened = reports
    later = copy.deepcopy(hardened)
    later["checks"] = [c for c in later["checks"] if c["id"] != "resilience.timeout"]
    later["checks"].append({**later["checks"][0], "id": "resilience.new_one"})
    rows = {row["id"]: row["change"] for row in compare(naive, later)["changed"]}
    assert rows["resilience.timeout"] == "removed" and rows["resilience.new_one"] == "new"


def test_lab_compare_on_run_folders(tmp_path: Path, reports: tuple[dict, dict]) -> None:  # type: ignore[type-arg]
    naive_dir = naive_run().write_folder(tmp_path / "naive")  # the journal only: rebuilt
    hardened_dir = tmp_path / "hardened"
    hardened_dir.mkdir()
    (hardened_dir / "report.json").write_text(json.dumps(reports[1]))
    assert load_run(naive_dir)["checks"][0]["verdict"] == "fail"
    result = CliRunner().invoke(
        main,
        ["compare", str(naive_dir), str(hardened_dir), "--markdown", str(tmp_path / "c.md"),
         "--html", str(tmp_path / "c.html")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "resilience.fallback ★" in result.output and "better" in result.output
    markdown = (tmp_path / "c.md").read_text()
    assert "| resilience.fallback ★ | FAIL | PASS | better |" in markdown
    assert "| calls per request | outage | 2.88 | 0.05 | −2.83 | better |" in markdown
    page = HTMLIndex((tmp_path / "c.html").read_text())
    row = page.one("data-check", "resilience.no_retry_storm")
    assert "FAIL" in row.text and "PASS" in row.text and "better" in row.text
    figure = next(
        e for e in page.having("data-figure", "user p95") if e.attrs["data-scope"] == "outage"
    )
    assert "1.30 s" in figure.text and "50 ms" in figure.text


def test_lab_compare_refuses_what_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "x.json").write_text("[1, 2]")
    runner = CliRunner()
    result = runner.invoke(main, ["compare", str(tmp_path / "empty"), str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "not a run directory" in result.output
    result = runner.invoke(main, ["compare", str(tmp_path / "x.json"), str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "not a gaplab report" in result.output


def test_lab_report_writes_markdown_and_html_from_the_journal(tmp_path: Path) -> None:
    folder = naive_run().write_folder(tmp_path / "run")
    result = CliRunner().invoke(
        main,
        ["report", str(folder), "--markdown", str(tmp_path / "r.md"), "--html",
         str(tmp_path / "r.html"), "--junit", str(tmp_path / "r.xml")],
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # not ready, as the run was
    assert (tmp_path / "r.md").read_text().startswith("## ❌ NOT READY  score 40%")
    page = (tmp_path / "r.html").read_text()
    first_example = load_run(folder)["checks"][0]["evidence"]["examples"][0]
    assert first_example == "user-0003-000101"  # the first request of the outage
    assert page.count("<svg ") == 4 and f'data-request="{first_example}"' in page
