"""Every format from one report document: JSON, JUnit, Markdown, HTML and the console agree
on every verdict and number they show; the document's series, examples and cost are right;
the HTML stays small."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from gaplab.report import figures
from gaplab.report.console import print_scorecard
from gaplab.report.html import render_html, write_html
from gaplab.report.markdown import render_markdown, write_markdown
from gaplab.report.model import verdict_headline
from gaplab.report.writers import write_json, write_junit

from .html_index import HTMLIndex
from .report_runs import START, naive_run


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return naive_run().report()


def _markdown_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            rows.append([re.sub(r"\\(.)", r"\1", c).strip() for c in cells])
    return rows


def _junit_cases(path: Path) -> dict[str, tuple[str, dict[str, str], ET.Element]]:
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        if case.find("failure") is not None:
            verdict = "fail"
        elif case.find("skipped") is not None:
            verdict = "not_run"
        else:
            out = case.find("system-out")
            warned = out is not None and (out.text or "").startswith("WARNING")
            verdict = "warn" if warned else "pass"
        cases[case.get("name", "")] = (verdict, props, case)
    return cases


def test_the_document_holds_series_examples_and_cost(report: dict[str, Any]) -> None:
    series = report["series"]
    assert series["t_s"][0] == int(START) and len(series["t_s"]) == 36
    assert sum(series["outcomes"]["ok"]) == report["totals"]["outcomes"]["ok"] == 250
    assert sum(series["outcomes"]["error"]) == 99 and sum(series["outcomes"]["unsafe"]) == 1
    assert sum(series["upstream_calls"]) == report["totals"]["provider_calls"] == 550
    outage_second = series["t_s"].index(int(START) + 15)
    assert series["upstream_calls"][outage_second] == 30  # 10 requests/s, 3 calls each
    assert series["latency"]["p95_s"][outage_second] == pytest.approx(1.3, rel=0.01)
    assert [b["phase"] for b in series["bands"]] == ["baseline", "outage", "recovery"]
    assert series["bands"][1]["faults"] == ["provider: error 503"]

    checks = {c["id"]: c for c in report["checks"]}
    fallback = checks["resilience.fallback"]["example_requests"]
    assert [e["request_id"] for e in fallback] == list(
        checks["resilience.fallback"]["evidence"]["examples"]
    )
    first = fallback[0]
    assert (first["status"], first["outcome"], first["latency_s"]) == (200, "unsafe", 1.3)
    assert [c["retry_count"] for c in first["calls"]] == [0, 1, 2]
    assert [c["offset_s"] for c in first["calls"]] == pytest.approx([0.002, 0.402, 0.802])
    assert first["calls_total"] == 3 and first["retries"] == 2
    storm = checks["resilience.no_retry_storm"]["example_requests"]
    assert storm and {e["chosen"] for e in storm} == {"most_calls"}
    assert all(e["calls_total"] == 3 for e in storm)
    assert checks["resilience.recovery"]["example_requests"] == []  # passed, not borderline

    cost = report["cost"]["per_request"]
    assert cost["requests"] == 350
    assert cost["mean_usd"] == pytest.approx(250 * 0.00003 / 350, rel=1e-4)
    assert (cost["p50_usd"], cost["p95_usd"], cost["max_usd"]) == (0.00003, 0.00003, 0.00003)
    assert report["cost"]["phases"]["outage"]["mean_usd"] == 0
    assert sum(report["cost"]["histogram"]["counts"]) == 350
    assert report["verdict"]["headline"] == verdict_headline(report)


def test_every_format_agrees_on_verdicts_and_numbers(
    report: dict[str, Any], tmp_path: Path
) -> None:
    write_json(report, tmp_path / "r.json")
    write_junit(report, tmp_path / "r.xml")
    write_markdown(report, tmp_path / "r.md")
    write_html(report, tmp_path / "r.html")
    console = Console(record=True, width=300, file=io.StringIO())
    print_scorecard(console, report)
    text = console.export_text()

    assert json.loads((tmp_path / "r.json").read_text()) == report
    cases = _junit_cases(tmp_path / "r.xml")
    markdown = (tmp_path / "r.md").read_text()
    md_rows = {row[1].removesuffix(" ★"): row for row in _markdown_rows(markdown)}
    page = HTMLIndex((tmp_path / "r.html").read_text())
    headline = report["verdict"]["headline"]
    assert headline.startswith("NOT READY  score 40%")
    assert headline in text and page.one("data-headline").text.strip() == headline
    assert markdown.startswith("## ❌ NOT READY  score 40%")
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None
    assert {p.get("name"): p.get("value") for p in suite.iter("property")}["headline"] == headline

    verdicts = {c["id"]: c["verdict"] for c in report["checks"]}
    assert verdicts == {
        "resilience.fallback": "fail",
        "resilience.no_retry_storm": "fail",
        "resilience.circuit_breaker": "fail",
        "resilience.recovery": "pass",
        "resilience.contained": "pass",
        "resilience.timeout": "not_run",
    }
    for check in report["checks"]:
        check_id, verdict = check["id"], check["verdict"]
        label = figures.VERDICT_LABEL[verdict]
        junit_verdict, props, _ = cases[check_id]
        assert junit_verdict == verdict == props["verdict"], check_id
        kind = check["evidence"]["kind"]
        assert md_rows[check_id][0].endswith(label) and md_rows[check_id][2] == kind
        assert md_rows[check_id][3].startswith(check["summary"])
        item = page.one("data-check", check_id)
        assert item.attrs["data-verdict"] == verdict and label in item.text
        console_line = next(line for line in text.splitlines() if check_id in line)
        assert ("not run" if verdict == "not_run" else label) in console_line
        assert re.search(rf"\b{kind}\b", console_line), console_line
        # The numbers: raw in JUnit, formatted the same way in HTML.
        numbers = check["evidence"]["numbers"]
        flat = dict(figures.flatten(numbers))
        junit_numbers = {k[8:]: v for k, v in props.items() if k.startswith("numbers.")}
        assert junit_numbers == flat
        shown = [e.text.strip() for e in _descendants(item) if "data-number" in e.attrs]
        assert shown == [formatted for _, formatted in figures.numbers(numbers)], check_id
        margin = check["evidence"]["margin"]
        assert props["margin"] == ("" if margin is None else str(margin))

    for phase in report["phases"]:
        row = page.one("data-phase", phase["name"])
        md_row = next(r for r in _markdown_rows(markdown) if r[0] == phase["name"])
        p95 = figures.duration(phase["latency"]["p95_s"])
        calls = figures.number(phase["provider_calls"])
        amplification = figures.ratio(phase["amplification"])
        assert md_row[7:10] == [p95, calls, amplification]
        assert [p95, calls, amplification] == [c.text for c in row.children[-3:]]
        assert (
            [c.text for c in row.children[2:7]]
            == md_row[2:7]
            == [
                figures.number(phase["outcomes"][k])
                for k in ("ok", "degraded", "refused", "error", "unsafe")
            ]
        )
    area_row = next(r for r in _markdown_rows(markdown) if r[0] == "resilience")
    assert page.one("data-area", "resilience").text == "40%" == area_row[1]
    mean = figures.usd(report["cost"]["per_request"]["mean_usd"])
    assert mean == "$0.000021"
    assert f"mean {mean}" in markdown.replace("\\$", "$")
    assert f"mean {mean}" in page.one("data-chart", "cost").text


def _descendants(element: Any) -> list[Any]:
    found = []
    for child in element.children:
        found.append(child)
        found.extend(_descendants(child))
    return found


def test_the_html_draws_every_chart_with_the_fault_phase_behind(report: dict[str, Any]) -> None:
    page = render_html([report])
    index = HTMLIndex(page)
    charts = {e.attrs["data-chart"] for e in index.having("data-chart")}
    assert charts == {"outcomes", "latency", "upstream", "cost"}
    svgs = [e for e in index.elements if e.tag == "svg"]
    assert len(svgs) == 4
    assert page.count('class="band outage"') == 3  # behind each time chart
    assert "provider: error 503" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing to fetch
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_the_html_of_a_45_s_run_and_of_an_hour_stays_under_a_megabyte() -> None:
    busy = naive_run(recovery=25, every=0.01).report()  # 45 s at 100 requests/s
    assert busy["totals"]["outcomes"]["ok"] > 3000
    size = len(render_html([busy]).encode())
    assert size < 1_000_000, size
    hour = naive_run(recovery=3580, every=1.0).report()
    assert len(hour["series"]["t_s"]) > 3600
    page = render_html([hour])
    assert len(page.encode()) < 1_000_000
    assert page.count("<g><title>") <= 3 * 240 + 20  # long runs are drawn in buckets


def test_a_suite_page_holds_a_section_per_scenario() -> None:
    first = naive_run("outage").report(run_id="a")
    second = naive_run("outage-two").report(run_id="b")
    index = HTMLIndex(render_html([first, second]))
    sections = index.having("data-scenario")
    assert [s.attrs["data-scenario"] for s in sections] == ["outage", "outage-two"]
    ids = [e.attrs["id"] for e in index.having("id")]
    assert len(ids) == len(set(ids))  # chart ids do not collide across sections
    markdown = render_markdown([first, second])
    assert markdown.count("## ❌ NOT READY") == 2
