"""The defence matrix's logic on synthetic runs: expected, unexpected and missing flips,
not_run, borderline and failing baselines never counted as flips, runs that did not
complete; and the ownership table itself (every defence, real scenarios, real checks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gaplab.cli import main
from gaplab.demo.options import DEFENCES
from gaplab.demo.ownership import EXERCISES, OWNERSHIP
from gaplab.errors import InputError
from gaplab.exit_codes import ExitCode
from gaplab.matrix.outcome import CheckVerdict, Played, judge
from gaplab.matrix.plan import (
    Job,
    load_ownership,
    owners_by_exercise,
    pick_defences,
    plan_jobs,
    write_scenario,
)
from gaplab.matrix.render import findings, markdown, table_rows
from gaplab.scenario.library import bundled_scenarios, load_scenario
from gaplab.target.resolve import resolve_target

P, F = CheckVerdict("pass"), CheckVerdict("fail")
OWN = {
    "breaker": {"outage": frozenset({"resilience.circuit_breaker"})},
    "fallback": {"outage": frozenset({"resilience.fallback"})},
}
CHECKS = ("resilience.fallback", "resilience.circuit_breaker", "resilience.recovery")


def played(**verdicts: CheckVerdict) -> Played:
    return Played("completed", {f"resilience.{k}": v for k, v in verdicts.items()})


BASELINE = played(fallback=P, circuit_breaker=P, recovery=P)


def test_removals_flipping_exactly_their_checks_exit_0() -> None:
    matrix = judge(
        OWN,
        ["breaker", "fallback"],
        {"outage": BASELINE},
        {
            ("breaker", "outage"): played(fallback=P, circuit_breaker=F, recovery=P),
            ("fallback", "outage"): played(fallback=F, circuit_breaker=P, recovery=P),
        },
    )
    assert matrix.exit_code is ExitCode.READY
    assert [r.flipped for r in matrix.rows] == [
        {"resilience.circuit_breaker"},
        {"resilience.fallback"},
    ]
    assert findings(matrix) == []
    assert matrix.checks == list(CHECKS)


def test_an_unexpected_flip_exits_1_and_is_named() -> None:
    matrix = judge(
        OWN,
        ["breaker"],
        {"outage": BASELINE},
        {("breaker", "outage"): played(fallback=P, circuit_breaker=F, recovery=F)},
    )
    assert matrix.exit_code is ExitCode.NOT_READY
    (row,) = matrix.rows
    assert row.unexpected == {"resilience.recovery"} and not row.missing
    assert findings(matrix) == ["unexpected flip: outage without breaker: resilience.recovery"]
    assert table_rows(matrix)[0][3] == "resilience.recovery"
    assert table_rows(matrix)[0][5] == "resilience.fallback"  # still passed
    assert table_rows(matrix)[0][6] == "WRONG"


def test_a_missing_flip_exits_1_and_says_what_the_removal_got() -> None:
    matrix = judge(
        OWN,
        ["breaker"],
        {"outage": BASELINE},
        {("breaker", "outage"): played(fallback=P, circuit_breaker=P, recovery=P)},
    )
    assert matrix.exit_code is ExitCode.NOT_READY
    assert matrix.rows[0].missing == {"resilience.circuit_breaker"}
    assert findings(matrix) == [
        "missing flip: outage without breaker: resilience.circuit_breaker (held: pass -> pass)"
    ]


def test_not_run_is_never_a_flip() -> None:
    skipped = CheckVerdict("not_run")
    owned_not_run = played(fallback=P, circuit_breaker=skipped, recovery=P)
    matrix = judge(OWN, ["breaker"], {"outage": BASELINE}, {("breaker", "outage"): owned_not_run})
    assert matrix.exit_code is ExitCode.NOT_READY
    assert "(not_run: pass -> not_run)" in findings(matrix)[0]
    # A check the baseline did not run, failed by the removal: not a flip, reported.
    baseline = played(fallback=P, circuit_breaker=P, recovery=skipped)
    removal = played(fallback=P, circuit_breaker=F, recovery=F)
    matrix = judge(OWN, ["breaker"], {"outage": baseline}, {("breaker", "outage"): removal})
    assert matrix.exit_code is ExitCode.READY
    assert matrix.rows[0].flipped == {"resilience.circuit_breaker"}
    assert findings(matrix) == [
        "note: outage without breaker: resilience.recovery: not_run (not_run -> fail)"
    ]
    # A check absent from the removal's report counts as not run.
    absent = Played("completed", {"resilience.fallback": P, "resilience.recovery": P})
    matrix = judge(OWN, ["breaker"], {"outage": BASELINE}, {("breaker", "outage"): absent})
    assert matrix.rows[0].missing == {"resilience.circuit_breaker"}
    assert "(not_run: pass -> absent)" in findings(matrix)[0]


def test_borderline_and_a_failing_baseline_are_never_flips() -> None:
    shaky = CheckVerdict("fail", borderline=True)
    matrix = judge(
        OWN,
        ["breaker"],
        {"outage": BASELINE},
        {("breaker", "outage"): played(fallback=P, circuit_breaker=shaky, recovery=P)},
    )
    assert matrix.exit_code is ExitCode.NOT_READY
    assert matrix.rows[0].cells[1].state == "borderline"
    assert "(borderline: pass -> fail~)" in findings(matrix)[0]
    baseline = played(fallback=F, circuit_breaker=P, recovery=P)
    removal = played(fallback=F, circuit_breaker=F, recovery=P)
    matrix = judge(OWN, ["breaker"], {"outage": baseline}, {("breaker", "outage"): removal})
    assert matrix.exit_code is ExitCode.READY  # the breaker's own flip is right
    assert matrix.rows[0].flipped == {"resilience.circuit_breaker"}
    assert findings(matrix) == [
        "note: outage without breaker: resilience.fallback: baseline (fail -> fail)"
    ]


def test_a_run_that_did_not_complete_decides_nothing_exit_3() -> None:
    dead = Played("failed", run_dir="runs/x", error="the target did not start")
    matrix = judge(OWN, ["breaker"], {"outage": BASELINE}, {("breaker", "outage"): dead})
    assert matrix.exit_code is ExitCode.LAB_ERROR
    assert matrix.rows[0].problem == (
        "outage without breaker: run failed (runs/x): the target did not start"
    )
    assert matrix.problems == (matrix.rows[0].problem,)
    assert table_rows(matrix)[0][6] == "no verdict"
    assert json.loads(json.dumps(matrix.to_json()))["exit_code"] == 3


def test_a_defence_no_scenario_exercises_is_listed_not_left_out() -> None:
    table = {**OWN, "consent": {}}
    assert plan_jobs(table, ["consent"]) == []
    matrix = judge(table, ["consent"], {}, {})
    assert matrix.rows == () and matrix.exit_code is ExitCode.READY
    assert findings(matrix) == ["not exercised by any scenario: consent"]


def test_markdown_holds_the_same_rows_as_the_console_table() -> None:
    matrix = judge(
        OWN,
        ["breaker", "fallback"],
        {"outage": BASELINE},
        {
            ("breaker", "outage"): played(fallback=F, circuit_breaker=F, recovery=P),
            ("fallback", "outage"): played(fallback=P, circuit_breaker=P, recovery=P),
        },
    )
    text = markdown(matrix, command="lab matrix")
    for values in table_rows(matrix):
        assert "| " + " | ".join(values) + " |" in text
    assert "- unexpected flip: outage without breaker: resilience.fallback" in text
    assert "- missing flip: outage without fallback: resilience.fallback (held: pass -> pass)" in (
        text
    )
    assert "2 of 2 rows differ from the ownership table." in text


def test_played_from_a_report_document() -> None:
    report = {
        "status": "completed",
        "error": None,
        "checks": [
            {"id": "cost.cache", "verdict": "fail", "borderline": True},
            {"id": "cost.output_cap", "verdict": "pass", "borderline": False},
        ],
    }
    got = Played.from_report(report, "runs/r")
    assert got.checks == {
        "cost.cache": CheckVerdict("fail", True),
        "cost.output_cap": CheckVerdict("pass"),
    }


# -- the table -------------------------------------------------------------------------------


def test_every_defence_has_its_exercises_and_each_claims_real_checks() -> None:
    assert set(OWNERSHIP) == set(DEFENCES)  # a new defence needs its entry
    bundled = bundled_scenarios()
    used = {e for exercises in OWNERSHIP.values() for e in exercises}
    assert used == set(EXERCISES), "an exercise no defence uses, or one not declared"
    for defence, exercises in OWNERSHIP.items():
        for name, owned in exercises.items():
            document = yaml.safe_load(bundled[EXERCISES[name].scenario].read_text())
            checks = {c if isinstance(c, str) else next(iter(c)) for c in document["checks"]}
            assert owned <= checks, (defence, name, owned - checks)
    assert owners_by_exercise(OWNERSHIP)["model_swap"] == {
        "pin": {"resilience.model_pinned"},
        "contract": {"resilience.model_pinned"},
    }


def test_each_exercise_copies_into_a_valid_scenario_for_its_interface(tmp_path: Path) -> None:
    for name, exercise in EXERCISES.items():
        path = write_scenario(exercise, f"{name}.without-x", 0.05, tmp_path)
        scenario, _ = load_scenario(str(path))
        assert scenario.name == f"{name}.without-x"
        assert scenario.interface == exercise.interface
        assert not {p.name for p in scenario.phases} & set(exercise.drop_phases)
        assert min(p.duration for p in scenario.phases) >= exercise.min_phase
        target = Job(name, "cache").target(exercise)
        resolve_target(target, interface=scenario.interface)
    chat = write_scenario(EXERCISES["bad_outputs_chat"], "c", 1.0, tmp_path)
    assert [p["for"] for p in yaml.safe_load(chat.read_text())["phases"]] == ["5s"] * 5


def test_scale_shortens_phases_but_never_below_what_the_exercise_needs(tmp_path: Path) -> None:
    def lengths(name: str, scale: float) -> list[str]:
        path = write_scenario(EXERCISES[name], name, scale, tmp_path)
        return [p["for"] for p in yaml.safe_load(path.read_text())["phases"]]

    assert lengths("outage", 1.0) == ["10s", "15s", "20s"]
    assert lengths("outage", 0.8) == ["8.0s", "12.0s", "16.0s"]
    assert lengths("outage", 0.1) == ["6.0s", "9.0s", "12.0s"]  # its shortest is 0.6
    assert lengths("long_conversation", 0.3) == ["24s"]  # never shortened
    assert lengths("opt_out", 0.05) == ["7.0s"]


def test_the_plan_plays_each_baseline_once_and_every_removal() -> None:
    jobs = plan_jobs(OWNERSHIP, ["pin", "contract"])
    assert [j.name for j in jobs] == [
        "bad_outputs",
        "bad_outputs.without-contract",
        "bad_outputs_chat",
        "bad_outputs_chat.without-contract",
        "model_swap",
        "model_swap.without-pin",
        "model_swap.without-contract",
    ]
    stream = Job("stream_faults", "stream_guard")
    assert stream.target(EXERCISES["stream_faults"]) == (
        "demo:hardened?break=1s&without=stream_guard"
    )
    assert Job("outage", None).target(EXERCISES["outage"]) == "demo:hardened"
    assert len(plan_jobs(OWNERSHIP, list(OWNERSHIP))) == len(EXERCISES) + sum(
        len(e) for e in OWNERSHIP.values()
    )


def test_only_names_defences_of_the_table() -> None:
    assert pick_defences(OWNERSHIP, ["guard,consent"]) == ["consent", "guard"]
    assert pick_defences(OWNERSHIP) == list(OWNERSHIP)
    with pytest.raises(InputError, match=r"unknown defence 'nope'.*timeout, retry"):
        pick_defences(OWNERSHIP, ["guard", "nope"])


def test_an_ownership_file_stands_in_for_the_table(tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    path.write_text("consent: {opt_out: [governance.consent, governance.ai_disclosure]}\n")
    assert load_ownership(path) == {
        "consent": {"opt_out": {"governance.consent", "governance.ai_disclosure"}}
    }
    for text, message in (
        ("nope: {opt_out: []}", "not a defence"),
        ("consent: {nowhere: []}", "unknown exercise"),
        ("consent: {opt_out: governance.consent}", "a list of check ids"),
        ("[1]", "a mapping"),
    ):
        path.write_text(text)
        with pytest.raises(InputError, match=message):
            load_ownership(path)


def test_lab_matrix_bad_input_exits_2_before_any_run(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["matrix", "--only", "nope", "--runs-dir", str(tmp_path)])
    assert done.exit_code == 2 and "unknown defence 'nope'" in done.output
    done = runner.invoke(main, ["matrix", "--scale", "2", "--runs-dir", str(tmp_path)])
    assert done.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_the_docs_table_names_every_check_each_defence_owns() -> None:
    docs = Path(__file__).parents[2] / "docs" / "demo-targets.md"
    rows: dict[str, str] = {}  # the first table naming each defence: "defence | owns | stops"
    for line in docs.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `") and line.count("|") == 4:
            rows.setdefault(line.split("|")[1].strip().strip("`"), line.split("|")[2])
    for defence, exercises in OWNERSHIP.items():
        owned = set().union(*exercises.values())
        assert all(f"`{check}`" in rows[defence] for check in owned), (defence, owned)
