"""A short suite end to end through the real `lab run` command: a few bundled scenarios,
scaled, two at a time, against real demo targets. Complete: exit 0 for hardened, 1 for
naive, one scorecard merging the scenarios with the attested items and every report file.
Ctrl-C (SIGINT to the real process): exit 130, an INCOMPLETE partial combined report, and
no process of the suite's left behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .test_no_orphans import _alive, descendants

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

LAB = [sys.executable, "-m", "gaplab"]
SHORT = """\
version: 1
suite: short
title: a short readiness suite
target: {target}
concurrency: 2
time_scale: {scale}
scenarios:
  - kill_switch
  - model_swap
  - {third}
"""


def suite_file(tmp_path: Path, target: str, scale: float = 0.6, third: str = "outage") -> Path:
    path = tmp_path / "short.yaml"
    path.write_text(SHORT.format(target=target, scale=scale, third=third))
    return path


def run_suite(tmp_path: Path, target: str, *extra: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    runs = tmp_path / "runs"
    done = subprocess.run(
        [*LAB, "run", str(suite_file(tmp_path, target)), "--runs-dir", str(runs), *extra],
        capture_output=True, text=True, timeout=200,
    )  # fmt: skip
    (folder,) = runs.iterdir()
    return done.returncode, json.loads((folder / "report.json").read_text()), done.stdout


def test_hardened_suite_is_ready_with_one_merged_scorecard_and_every_report(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    code, report, stdout = run_suite(
        tmp_path, "demo:hardened", "--junit", str(out / "j.xml"), "--markdown",
        str(out / "r.md"), "--html", str(out / "r.html"),
    )  # fmt: skip
    assert code == 0, stdout
    verdict = report["verdict"]
    assert verdict["ready"] and verdict["headline"].startswith("READY"), stdout
    assert [s["exit_code"] for s in report["scenarios"]] == [0, 0, 0]
    assert all(s["cpu_s"] > 0 and s["wall_s"] > 0 for s in report["scenarios"])
    items = {i["id"]: i for i in report["items"]}
    # outage and kill_switch both exercise nothing in common; outage's five items merged
    # with the attested ten: one list, each with its kind and deciding scenario
    assert items["integration.kill_switch"]["kind"] == "probed"
    assert items["resilience.fallback"]["decided_by"] == "outage"
    assert items["testing.evals"]["kind"] == "attested"
    assert items["testing.evals"]["decided_by"] == "attestation"
    measured = [i for i in report["items"] if i["kind"] != "attested"]
    assert {i["verdict"] for i in measured} == {"pass"}, [(i["id"], i["summary"]) for i in measured]
    assert verdict["score"] == 100.0
    assert verdict["attested_score"] == 100.0 and report["distinct_items"] == len(items)
    assert "kind" in stdout and "attested" in stdout and "3/3 done" not in stdout[:0]
    cases = ET.parse(out / "j.xml").getroot().iter("testcase")
    names = {(c.get("classname"), c.get("name")) for c in cases}
    assert ("gaplab.outage.resilience", "resilience.fallback") in names
    assert ("gaplab.attestation.testing", "testing.evals") in names
    markdown = (out / "r.md").read_text()
    assert "| verdict | item | kind | scenario | evidence |" in markdown
    assert markdown.count("\n## ") >= 3  # a section per scenario after the merged scorecard
    html = (out / "r.html").read_text()
    assert 'data-suite="short"' in html and html.count('class="run"') == 3


def test_naive_suite_is_not_ready(tmp_path: Path) -> None:
    code, report, stdout = run_suite(tmp_path, "demo:naive")
    assert code == 1, stdout
    items = {i["id"]: i for i in report["items"]}
    assert items["resilience.fallback"]["verdict"] == "fail"
    assert items["integration.kill_switch"]["verdict"] == "not_run"  # naive declares none
    assert items["testing.evals"]["verdict"] == "fail"  # naive's own attestation file
    assert report["verdict"]["headline"].startswith("NOT READY")


def test_ctrl_c_stops_the_suite_with_a_partial_report_exit_130_and_no_process_left(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    path = suite_file(tmp_path, "demo:hardened", scale=1.0, third="outage")
    process = subprocess.Popen(
        [*LAB, "run", str(path), "--runs-dir", str(runs)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    # Wait until both first scenarios run their targets (a demo process each).
    deadline = time.monotonic() + 60
    tree: dict[int, str] = {}
    while time.monotonic() < deadline:
        tree = descendants(process.pid)
        demos = [p for p in tree if "gaplab.demo" in _cmdline(p)]
        if len(demos) >= 2:
            break
        time.sleep(0.5)
    assert len([p for p in tree if "gaplab.demo" in _cmdline(p)]) >= 2
    time.sleep(3)
    tree = descendants(process.pid)
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=90)
    assert process.returncode == 130, stdout
    assert "SIGINT: stopping the running scenarios" in stdout
    time.sleep(1)
    assert [pid for pid, started in tree.items() if _alive(pid, started)] == []
    (folder,) = runs.iterdir()
    report = json.loads((folder / "report.json").read_text())
    assert report["status"] == "interrupted" and report["partial"]
    verdict = report["verdict"]
    assert verdict["headline"].startswith("INCOMPLETE") and not verdict["ready"]
    ran = [s for s in report["scenarios"] if s["exit_code"] is not None]
    never = [s for s in report["scenarios"] if s["exit_code"] is None]
    assert len(ran) == 2 and {s["exit_code"] for s in ran} == {130} and len(never) == 1
    assert all(s["report"]["partial"] for s in ran)  # each wrote its partial report
    assert "never ran" in verdict["stopped"] and "did not finish" in verdict["stopped"]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
