"""The JUnit report is valid against the common JUnit XML schema CI systems read
(tests/data/junit.xsd, ours, written from the documented format)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from gaplab.report.junit import junit_element
from gaplab.report.writers import write_junit

from .report_runs import hardened_run, naive_run

SCHEMA = xmlschema.XMLSchema(Path(__file__).parents[1] / "data" / "junit.xsd")


def test_a_run_and_a_suite_are_valid_junit(tmp_path: Path) -> None:
    naive = naive_run().report()
    write_junit(naive, tmp_path / "run.xml")
    SCHEMA.validate(tmp_path / "run.xml")
    suite = [naive, hardened_run("outage-hardened").report(run_id="b")]
    write_junit(suite, tmp_path / "suite.xml")
    SCHEMA.validate(tmp_path / "suite.xml")
    root = ET.parse(tmp_path / "suite.xml").getroot()
    assert root.tag == "testsuites" and root.get("tests") == "12" and root.get("failures") == "3"
    names = [s.get("name") for s in root.iter("testsuite")]
    assert names == ["gaplab.outage", "gaplab.outage-hardened"]
    classnames = {c.get("classname") for c in root.iter("testcase")}
    assert classnames == {"gaplab.outage.resilience", "gaplab.outage-hardened.resilience"}


def test_a_failure_names_its_example_requests_and_the_evidence_is_in_properties() -> None:
    report = naive_run().report()
    root = junit_element([report])
    case = next(c for c in root.iter("testcase") if c.get("name") == "resilience.fallback")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "critical"
    examples = report["checks"][0]["evidence"]["examples"]
    assert failure.get("message", "").endswith("example requests: " + ", ".join(examples))
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["kind"] == "measured" and props["phase"] == "outage"
    assert props["numbers.requests"] == "100" and props["numbers.error_reasons.HTTP 500"] == "99"
    assert props["margin"] == "-1.0"
    assert "3 provider calls: 503@+2.0 ms, 503@+402 ms retry 1" in (failure.text or "")


def test_the_schema_rejects_what_ci_systems_would_not_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuites><testsuite name="x" tests="1"><testcase name="c"/></testsuite>'
                   "</testsuites>")  # fmt: skip
    with pytest.raises(xmlschema.XMLSchemaValidationError, match="classname"):
        SCHEMA.validate(bad)
    bad.write_text('<testsuites><testsuite name="x" tests="-1"/></testsuites>')
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        SCHEMA.validate(bad)
    bad.write_text('<testsuites><testsuite name="x" tests="1"><testcase name="c" classname="k">'
                   "<system-out/><failure/></testcase></testsuite></testsuites>")  # fmt: skip
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        SCHEMA.validate(bad)  # a failure after system-out is out of order


def test_a_run_that_failed_adds_a_valid_error_case(tmp_path: Path) -> None:
    report = naive_run().report()
    report["status"], report["error"] = "failed", "the target did not start"
    write_junit(report, tmp_path / "failed.xml")
    SCHEMA.validate(tmp_path / "failed.xml")
    suite = ET.parse(tmp_path / "failed.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1" and suite.get("tests") == "7"
