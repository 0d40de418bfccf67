"""File writers for the report document: JSON and JUnit XML.

JUnit is written with the standard library's ElementTree: the format is a handful of
elements, and the junit-xml package has had no release since 2020.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from gaplab.engine.secrets import write_private_text


def write_json(report: dict[str, Any], path: Path, *, private: bool = False) -> None:
    """`private`: the file is readable by its owner only (a run folder's report.json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    if private:
        write_private_text(path, text)
    else:
        path.write_text(text, encoding="utf-8")


def write_junit(report: dict[str, Any], path: Path) -> None:
    """One test case per check: fail -> <failure>, not_run -> <skipped>, warn -> pass with
    the warning in system-out."""
    checks = report["checks"]
    suite = ET.Element(
        "testsuite",
        {
            "name": f"gaplab.{report['scenario']['name']}",
            "tests": str(len(checks)),
            "failures": str(sum(1 for c in checks if c["verdict"] == "fail")),
            "skipped": str(sum(1 for c in checks if c["verdict"] == "not_run")),
            "errors": "1" if report["status"] == "failed" else "0",
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
    ):
        ET.SubElement(properties, "property", {"name": name, "value": str(value)})
    for check in checks:
        case = ET.SubElement(
            suite, "testcase", {"classname": f"gaplab.{check['area']}", "name": check["id"]}
        )
        text = _evidence_text(check)
        if check["verdict"] == "fail":
            failure = ET.SubElement(
                case,
                "failure",
                {"message": check["summary"], "type": "critical" if check["critical"] else "check"},
            )
            failure.text = text
        elif check["verdict"] == "not_run":
            ET.SubElement(case, "skipped", {"message": check["summary"]})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = ("WARNING: " if check["verdict"] == "warn" else "") + text
    if report["status"] == "failed":
        error_case = ET.SubElement(
            suite, "testcase", {"classname": "gaplab.lab", "name": "lab.run"}
        )
        ET.SubElement(error_case, "error", {"message": report.get("error") or "run failed"})
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(suite)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _evidence_text(check: dict[str, Any]) -> str:
    evidence = check["evidence"]
    lines = [check["summary"], f"evidence ({evidence['kind']}), phase {evidence['phase']}:"]
    lines += [f"  {k}: {v}" for k, v in evidence["numbers"].items()]
    if evidence["examples"]:
        lines.append("  example requests: " + ", ".join(evidence["examples"]))
    return "\n".join(lines)
