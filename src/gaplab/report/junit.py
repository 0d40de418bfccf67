"""The JUnit XML report: what CI systems (Jenkins, GitLab, GitHub test reporters) read.

`<testsuites>` holds a `<testsuite name="gaplab.<scenario>">` per report, so a suite of
scenario runs is one file. Each item is a `<testcase classname="gaplab.<scenario>.<area>"
name="<check id>">` with its evidence in the case's `<properties>`, as the common JUnit XML
format allows (properties per test case). tests/data/junit.xsd is our schema of that
format, and a test holds the output to it.

Written with the standard library's ElementTree: the format is a handful of elements, and
the junit-xml package has had no release since 2020.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gaplab.report import figures
from gaplab.report.figures import flatten
from gaplab.report.model import verdict_headline


def write_junit(report: dict[str, Any] | Sequence[dict[str, Any]], path: Path) -> None:
    """`<testsuites>` with a `<testsuite>` per report (one for a run, several for a suite)."""
    reports = [report] if isinstance(report, dict) else list(report)
    root = junit_element(reports)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def junit_element(reports: Sequence[dict[str, Any]]) -> ET.Element:
    """One test case per item, classname `gaplab.<scenario>.<area>`: fail -> <failure>
    naming the example requests, not_run -> <skipped>, warn -> pass with the warning in
    system-out; the evidence in the case's <properties> (kind, phase, margin, numbers
    flattened). The schema the tests hold it to: tests/data/junit.xsd."""
    root = ET.Element("testsuites", {"name": "gaplab"})
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    duration = 0.0
    for report in reports:
        suite = _suite(report)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        duration += report["totals"]["duration_s"] or 0
    for key, count in totals.items():
        root.set(key, str(count))
    root.set("time", f"{duration:.3f}")
    return root


def _suite(report: dict[str, Any]) -> ET.Element:
    checks = report["checks"]
    scenario = report["scenario"]["name"]
    failed = report["status"] == "failed"
    suite = ET.Element(
        "testsuite",
        {
            "name": f"gaplab.{scenario}",
            "tests": str(len(checks) + (1 if failed else 0)),
            "failures": str(sum(1 for c in checks if c["verdict"] == "fail")),
            "errors": "1" if failed else "0",
            "skipped": str(sum(1 for c in checks if c["verdict"] == "not_run")),
            "time": f"{report['totals']['duration_s'] or 0:.3f}",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", report["run_id"]),
        ("target", report["target"]),
        ("seed", report["seed"]),
        ("status", report["status"]),
        ("score", report["verdict"]["score"]),
        ("headline", verdict_headline(report)),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _text(value)})
    for check in checks:
        suite.append(_case(scenario, check))
    if failed:
        error_case = ET.SubElement(
            suite, "testcase", {"classname": f"gaplab.{scenario}.lab", "name": "lab.run"}
        )
        ET.SubElement(error_case, "error", {"message": report.get("error") or "run failed"})
    return suite


def _case(scenario: str, check: dict[str, Any]) -> ET.Element:
    case = ET.Element(
        "testcase", {"classname": f"gaplab.{scenario}.{check['area']}", "name": check["id"]}
    )
    evidence = check["evidence"]
    properties = ET.SubElement(case, "properties")
    for name, value in (
        ("verdict", check["verdict"]),
        ("critical", check["critical"]),
        ("kind", evidence["kind"]),
        ("phase", evidence["phase"]),
        ("margin", evidence["margin"]),
        ("borderline", check.get("borderline", False)),
        ("limit", evidence.get("limit") or ""),
        ("examples", ", ".join(evidence["examples"])),
        *((f"numbers.{k}", v) for k, v in flatten(evidence["numbers"])),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _text(value)})
    text = _evidence_text(check)
    if check["verdict"] == "fail":
        message = check["summary"]
        if evidence["examples"]:
            message += "; example requests: " + ", ".join(evidence["examples"])
        failure = ET.SubElement(
            case,
            "failure",
            {"message": message, "type": "critical" if check["critical"] else "check"},
        )
        failure.text = text
    elif check["verdict"] == "not_run":
        ET.SubElement(case, "skipped", {"message": check["summary"]})
    else:
        out = ET.SubElement(case, "system-out")
        out.text = ("WARNING: " if check["verdict"] == "warn" else "") + text
    return case


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _evidence_text(check: dict[str, Any]) -> str:
    evidence = check["evidence"]
    lines = [check["summary"], f"evidence ({evidence['kind']}), phase {evidence['phase']}:"]
    lines += [f"  {k}: {v}" for k, v in evidence["numbers"].items()]
    if evidence.get("limit"):
        lines.append(f"  limit: {evidence['limit']}; margin: {figures.margin(evidence['margin'])}")
    if evidence["examples"]:
        lines.append("  example requests: " + ", ".join(evidence["examples"]))
    for example in check.get("example_requests", []):
        lines.append(_example_line(example))
    return "\n".join(lines)


def _example_line(example: dict[str, Any]) -> str:
    got = f"HTTP {example['status']}" if example["status"] else "no response"
    line = (
        f"  {example['request_id']}: {got}, {example['outcome']} after "
        f"{figures.duration(example['latency_s'])}"
    )
    if example["detail"]:
        line += f" ({example['detail']})"
    if example["excerpt"]:
        line += f", answer excerpt {example['excerpt']!r}"
    calls = [
        f"{c['status']}@+{figures.duration(c['offset_s'])}"
        + (f" retry {c['retry_count']}" if c["retry_count"] else "")
        for c in example["calls"]
    ]
    if calls:
        line += f"; {example['calls_total']} provider calls: " + ", ".join(calls)
    return line
