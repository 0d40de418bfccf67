"""The suite: merging scenario reports (worst verdict, each scenario's evidence, attested
items in their own column, incomplete when a scenario did not finish), the suite file's
validation at file:line, and the bundled readiness suite's coverage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gaplab.checks.attested.answers import attested_results, load_attestation
from gaplab.checks.registry import CHECKS
from gaplab.cli import main
from gaplab.errors import InputError
from gaplab.scenario.library import bundled_scenarios
from gaplab.suite.loading import find_suite, load_suite
from gaplab.suite.merge import merge_items, suite_scorecard
from gaplab.suite.report import suite_markdown

ROOT = Path(__file__).resolve().parents[2]


def check(check_id: str, verdict: str, summary: str = "") -> dict[str, Any]:
    known = CHECKS[check_id]
    return {
        "id": check_id, "title": known.title, "area": known.area, "critical": known.critical,
        "verdict": verdict, "summary": summary or verdict, "why": "w", "borderline": False,
        "evidence": {"kind": known.kind.value, "phase": None, "numbers": {"n": 1},
                     "examples": [], "margin": 0.5, "limit": ""},
    }  # fmt: skip


def report(name: str, *checks: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    return {
        "scenario": {"name": name, "title": name},
        "status": status,
        "checks": list(checks),
        "verdict": {"missed_faults": []},
    }


def test_an_item_keeps_its_worst_verdict_with_every_scenarios_evidence() -> None:
    reports = [
        report("outage", check("resilience.contained", "pass", "outage kept it"),
               check("resilience.fallback", "pass")),
        report("hang", check("resilience.contained", "fail", "hang broke it"),
               check("resilience.fallback", "not_run", "no outage")),
        report("black_hole", check("resilience.contained", "warn")),
    ]  # fmt: skip
    items = {i.result.id: i for i in merge_items(reports)}
    contained = items["resilience.contained"]
    assert contained.result.verdict.value == "fail" and contained.scenario == "hang"
    assert contained.result.summary == "[hang] hang broke it"
    assert [e["scenario"] for e in contained.per_scenario] == ["outage", "hang", "black_hole"]
    assert [e["verdict"] for e in contained.per_scenario] == ["pass", "fail", "warn"]
    fallback = items["resilience.fallback"]  # not_run in one scenario, decided in another
    assert fallback.result.verdict.value == "pass" and fallback.scenario == "outage"
    card = suite_scorecard(reports, list(items.values()), fail_under=80, planned=3)
    assert card.critical_failures == ("resilience.contained",) and not card.ready
    assert card.areas == {"resilience": 50.0} and card.complete


def test_attested_items_score_in_their_own_column_and_never_make_a_suite_ready() -> None:
    path = ROOT / "src" / "gaplab" / "demo" / "attest" / "hardened.attest.yaml"
    attested = attested_results(load_attestation(path))
    only_attested = merge_items([], attested)
    card = suite_scorecard([], only_attested, fail_under=80, planned=0)
    assert card.attested_score == 100.0 and card.score is None and not card.ready
    reports = [report("outage", check("resilience.fallback", "fail"))]
    card = suite_scorecard(reports, merge_items(reports, attested), fail_under=80, planned=1)
    assert card.score == 0.0 and card.attested_score == 100.0 and not card.ready
    assert set(card.attested_areas or {}) == {"observability", "cost", "governance", "testing"}


def test_a_suite_with_an_unfinished_scenario_is_incomplete() -> None:
    reports = [
        report("outage", check("resilience.fallback", "pass")),
        report("hang", check("resilience.timeout", "pass"), status="interrupted"),
    ]
    card = suite_scorecard(reports, merge_items(reports), fail_under=80, planned=4)
    assert not card.complete and not card.ready
    assert card.stopped == "did not finish: hang; 2 of 4 scenarios never ran"


def test_the_markdown_scorecard_has_a_kind_column() -> None:
    reports = [report("outage", check("resilience.fallback", "pass"))]
    items = merge_items(reports)
    card = suite_scorecard(reports, items, fail_under=80, planned=1)
    document = {
        "title": "t", "suite": "s", "target": "demo:naive", "run_id": "r", "scenarios": [{}],
        "distinct_items": 1,
        "verdict": {"headline": "READY", "ready": card.ready, "complete": True,
                    "areas": card.areas, "attested_areas": {}, "score": card.score,
                    "attested_score": None},
        "items": [{"id": "resilience.fallback", "critical": True, "verdict": "pass",
                   "kind": "measured", "decided_by": "outage", "summary": "ok"}],
    }  # fmt: skip
    text = suite_markdown(document)
    assert "| verdict | item | kind | scenario | evidence |" in text
    assert "| ✅ pass | resilience.fallback ★ | measured | outage | ok |" in text


# -- the suite file ---------------------------------------------------------------------
def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("version: 1\nsuite: s\nscenarios:\n  - outage\n  - nosuch\n", ":5:", "nosuch"),
        ("version: 1\nsuite: s\nconcurency: 2\nscenarios: [outage]\n", ":3:", "concurency"),
        ("version: 1\nsuite: s\ntime_scale: 2\nscenarios: [outage]\n", ":3:", "time_scale"),
        ("version: 1\nsuite: s\nscenarios:\n  - {scenario: outage, target: demo:nope}\n", ":4:",
         "nope"),
        ("version: 1\nsuite: s\nattest: missing.attest.yaml\nscenarios: [outage]\n", "",
         "missing.attest.yaml"),
        ("version: 1\nsuite: s\nscenarios: []\n", ":3:", "scenarios"),
    ],
)  # fmt: skip
def test_suite_file_problems_are_located(tmp_path: Path, text: str, where: str, says: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_suite(path)
    message = str(caught.value)
    assert f"{path}{where}" in message and says in message


def test_lab_validate_checks_the_suite_and_every_scenario_in_it(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(main, ["validate", str(ROOT / "scenarios" / "readiness.yaml")])
    assert good.exit_code == 0, good.output
    assert (
        "suite of 34 scenarios" in good.output and good.output.count("(scenario of the suite") == 34
    )
    broken = tmp_path / "scenarios"
    broken.mkdir()
    outage = (ROOT / "scenarios" / "outage.yaml").read_text()
    (broken / "bad.yaml").write_text(outage.replace("resilience.fallback", "resilience.falback"))
    suite = write(tmp_path, "version: 1\nsuite: s\nscenarios: [outage, scenarios/bad.yaml]\n")
    bad = runner.invoke(main, ["validate", str(suite)])
    assert bad.exit_code == 2 and f"{suite}:3:" in bad.output and "falback" in bad.output


def test_the_readiness_suite_runs_every_bundled_scenario_and_covers_40_items() -> None:
    path = find_suite("readiness")
    assert path is not None and path.name == "readiness.yaml"
    loaded = load_suite(path)
    assert {e.name for e in loaded.entries} == set(bundled_scenarios())
    assert "readiness" not in bundled_scenarios()  # a suite is not a scenario
    measured = {ref.id for e in loaded.entries for ref in e.scenario.checks}
    attested = {r.id for r in attested_results(None)}
    assert len(measured | attested) >= 40
    assert measured | attested == set(CHECKS)  # every registered item is exercised
    assert find_suite("outage") is None


def test_a_demo_target_brings_its_own_attestation_file() -> None:
    path = find_suite("readiness")
    assert path is not None
    hardened = load_suite(path, target="demo:hardened?without=metrics")
    assert hardened.attestation_path is not None
    assert hardened.attestation_path.name == "hardened.attest.yaml"
    assert load_suite(path).attestation_path.name == "naive.attest.yaml"  # type: ignore[union-attr]
