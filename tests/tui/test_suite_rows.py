"""What the suite screen says, without the app: the overall line from a progress snapshot,
a countdown's form, the merged items as scorecard checks (kind, deciding scenario, its
own evidence), a past suite's exit code and attested items, from a real suite report
(tests/tui/data/suite-report.json)."""

from __future__ import annotations

import json
from pathlib import Path

from gaplab.exit_codes import ExitCode
from gaplab.suite.headless import attested_of, suite_exit_code
from gaplab.suite.report import read_suite_report
from gaplab.suite.runner import SuiteProgress
from gaplab.tui.suite_rows import clock, headline_word, merged_checks, overall_line

DATA = Path(__file__).parent / "data"


def progress(**changes: object) -> SuiteProgress:
    values: dict[str, object] = {
        "total": 34, "done": tuple(f"s{i}" for i in range(12)),
        "running": (("a", 10.0, 40.0), ("b", 5.0, 30.0), ("c", 1.0, 20.0), ("d", 0.0, 9.0)),
        "left": 18, "elapsed_s": 100.4, "eta_s": 130.0,
    }  # fmt: skip
    values.update(changes)
    return SuiteProgress(**values)  # type: ignore[arg-type]


def test_the_overall_line_counts_done_running_waiting_and_the_time_left() -> None:
    assert overall_line(progress()) == (
        "12 of 34 done · 4 running · 18 waiting · 1:40 elapsed · about 2:10 left"
    )
    stopping = overall_line(progress(interrupted=True))
    assert stopping == "12 of 34 done · stopping 4 running · none started any more"
    assert overall_line(progress(interrupted=True), ended=True) == (
        "12 of 34 done · stopped · took 1:40"
    )


def test_a_countdown_reads_as_minutes_and_seconds() -> None:
    assert [clock(s) for s in (0, 4.4, 59.6, 130, 3723)] == [
        "0:00", "0:04", "1:00", "2:10", "1:02:03",
    ]  # fmt: skip
    assert headline_word("NOT READY  score 0%") == "NOT READY"
    assert headline_word("INCOMPLETE  stopped") == "INCOMPLETE"


def test_merged_items_become_checks_with_their_kind_and_the_deciding_evidence() -> None:
    document = json.loads((DATA / "suite-report.json").read_text())
    checks = {c["id"]: c for c in merged_checks(document)}
    assert len(checks) == document["distinct_items"] == 12
    fallback = checks["resilience.fallback"]
    assert (fallback["kind"], fallback["verdict"], fallback["decided_by"]) == (
        "measured", "fail", "blip",
    )  # fmt: skip
    # the deciding scenario's own check: why it matters, its numbers, its example requests
    (blip,) = (s["report"] for s in document["scenarios"] if s["name"] == "blip")
    (own,) = (c for c in blip["checks"] if c["id"] == "resilience.fallback")
    assert fallback["why"] == own["why"] and fallback["evidence"]["numbers"]["requests"] == 105
    assert fallback["example_requests"] == own["example_requests"]
    assert [e["scenario"] for e in fallback["scenarios"]] == ["blip", "blip_again"]
    evals = checks["testing.evals"]
    assert (evals["kind"], evals["decided_by"], evals["verdict"]) == (
        "attested", "attestation", "pass",
    )  # fmt: skip
    assert evals["why"]  # the attested item's question, from the suite's items


def test_a_past_suite_keeps_its_exit_code_and_attested_items(tmp_path: Path) -> None:
    document = json.loads((DATA / "suite-report.json").read_text())
    assert suite_exit_code(document) == ExitCode.NOT_READY
    assert suite_exit_code({**document, "status": "interrupted"}) == ExitCode.INTERRUPTED
    lab_error = [{**s, "exit_code": 3} for s in document["scenarios"]]
    assert suite_exit_code({**document, "scenarios": lab_error}) == ExitCode.LAB_ERROR
    ready = {**document, "verdict": {**document["verdict"], "ready": True}}
    assert suite_exit_code(ready) == ExitCode.READY
    attested = attested_of(document)
    assert len(attested) == 10 and {r.evidence.kind.value for r in attested} == {"attested"}
    (tmp_path / "report.json").write_text(json.dumps(document))
    assert read_suite_report(tmp_path) == document
    (tmp_path / "report.json").write_text(json.dumps(blip_report(document)))
    assert read_suite_report(tmp_path) is None  # a run's folder, not a suite's


def blip_report(document: dict[str, object]) -> dict[str, object]:
    scenarios = document["scenarios"]
    assert isinstance(scenarios, list)
    report: dict[str, object] = scenarios[0]["report"]
    return report
