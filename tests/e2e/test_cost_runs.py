"""The cost scenarios, short, against real demo targets: the naive demo fails each cost
check with numbers (tokens, dollars, request ids), the hardened demo passes, and switching
off one cost defence fails exactly the checks it owns. Plus a real `lab run` whose report
prices the run to the cent of what the provider journaled, cached tokens included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gaplab.checks.base import Verdict
from gaplab.engine.journal import read_journal
from gaplab.engine.record import RunRecord

from .short import explain, run_targets, short_copy, verdicts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

# scenario -> (phase scale, the hardened defence whose removal fails its checks, which ones)
OWNERS: dict[str, tuple[float, dict[str, list[str]]]] = {
    "huge_input": (0.5, {"input_limit": ["cost.input_limit"]}),
    "context_overflow": (0.6, {"input_limit": ["cost.input_limit"]}),
    "runaway_output": (0.5, {"output_cap": ["cost.output_cap"]}),
    "repeated_questions": (0.5, {"cache": ["cost.cache"]}),
    # 20 turns take the whole 24 s: not shortened.
    "long_conversation": (1.0, {"history": ["cost.prompt_growth"]}),
    "greedy_user": (0.6, {"quota": ["cost.budget_enforced"]}),
}
# What each naive failure must say, with its numbers.
NAIVE_SAYS = {
    "cost.input_limit": "reached the provider whole",
    "cost.per_request": "over budget",
    "cost.output_cap": "set no max_tokens",
    "cost.cache": "the same answers were paid for again",
    "cost.prompt_growth": "the whole history is resent with no cap",
    "cost.budget_enforced": "tokens upstream in one minute",
}


@pytest.mark.parametrize("name", sorted(OWNERS))
async def test_naive_fails_hardened_passes_and_each_owner_flips_only_its_checks(
    name: str, tmp_path: Path
) -> None:
    scale, owners = OWNERS[name]
    targets = ["demo:naive", "demo:hardened"] + [f"demo:hardened?without={d}" for d in owners]
    results = await run_targets(short_copy(name, tmp_path, scale), targets, tmp_path / "runs")
    naive, hardened = results["demo:naive"], results["demo:hardened"]
    checks = set(verdicts(hardened))
    assert set(verdicts(hardened).values()) == {Verdict.PASS}, explain(hardened)
    assert set(verdicts(naive).values()) == {Verdict.FAIL}, explain(naive)
    assert hardened.scorecard.ready and not naive.scorecard.ready
    for result in (naive, hardened):
        assert not any(r.borderline for r in result.scorecard.results), explain(result)
    for failed in naive.scorecard.results:
        assert NAIVE_SAYS[failed.id] in failed.summary, explain(naive)
        assert failed.evidence.numbers and failed.evidence.margin is not None
    for defence, owned in owners.items():
        got = verdicts(results[f"demo:hardened?without={defence}"])
        assert {c for c, v in got.items() if v is Verdict.FAIL} == set(owned), (
            defence,
            explain(results[f"demo:hardened?without={defence}"]),
        )
        assert {c for c, v in got.items() if v is Verdict.PASS} == checks - set(owned)


async def test_a_paste_past_the_context_window_shows_what_the_provider_counted(
    tmp_path: Path,
) -> None:
    """Naive forwards it, the provider refuses it (400 context_length_exceeded) after
    counting it, and the user gets a 500; without input_limit the hardened quota stops it
    with a 429 (not a refusal for its size); without both it reaches the provider too."""
    targets = [
        "demo:naive",
        "demo:hardened?without=input_limit",
        "demo:hardened?without=input_limit,quota",
    ]
    path = short_copy("context_overflow", tmp_path, 0.5)
    results = await run_targets(path, targets, tmp_path / "runs")
    naive = results["demo:naive"].scorecard.results[0]
    numbers = naive.evidence.numbers
    assert numbers["statuses"] == {"500": numbers["oversized_inputs"]}
    assert numbers["provider_saw_max_tokens"] > 128_000 and numbers["usd"] == 0
    assert numbers["provider_refused_codes"] == {
        "context_length_exceeded (over 128,000 tokens)": numbers["provider_refused"]
    }
    assert naive.evidence.examples and naive.evidence.examples[0] in naive.summary
    quota = results["demo:hardened?without=input_limit"].scorecard.results[0]
    assert quota.evidence.numbers["throttled_429"] == quota.evidence.numbers["oversized_inputs"]
    assert "429" in quota.summary
    through = results["demo:hardened?without=input_limit,quota"].scorecard.results[0]
    assert through.evidence.numbers["sent_whole"] > 0
    assert through.evidence.numbers["provider_refused"] == through.evidence.numbers["sent_whole"]


SCENARIO = """\
version: 1
name: cost_to_the_cent
title: Questions, pastes and conversations, priced
seed: 3
load:
  users: 4
  think: 50ms
  # From about turn 17 a resent history is over 1,024 tokens: its prefix is cached.
  inputs: {questions: 20, documents: {weight: 20, pages: 4}, conversation: {weight: 60, turns: 20}}
phases:
  - {name: steady, for: 20s}
checks:
  - cost.per_request: {per_request_usd: 0.01, daily_requests: 1000}
"""


@pytest.mark.timeout(120)
def test_lab_run_prices_the_run_to_the_cent_of_the_provider_journal(tmp_path: Path) -> None:
    scenario = tmp_path / "priced.yaml"
    scenario.write_text(SCENARIO)
    report_path = tmp_path / "report.json"
    command = [sys.executable, "-m", "gaplab", "run", str(scenario), "--target", "demo:naive"]
    done = subprocess.run(
        [*command, "--runs-dir", str(tmp_path / "runs"), "--json", str(report_path)],
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(report_path.read_text())
    (run_dir,) = (tmp_path / "runs").iterdir()
    record = RunRecord.from_events(read_journal(run_dir / "events.jsonl"))
    journal_usd = sum(c.cost_usd for c in record.calls)
    cost = report["cost"]
    # The lab priced every call itself from the profile's table; the provider priced it as
    # it answered. Equal to the cent, and in fact to the float's last digits.
    assert round(cost["total_usd"], 2) == round(journal_usd, 2)
    assert cost["total_usd"] == pytest.approx(journal_usd, rel=1e-5)
    assert cost["journal_usd"] == pytest.approx(journal_usd, rel=1e-5)
    assert cost["priced_by"] == "openai profile"
    # Long conversations resend their history: its prefix is read from the prompt cache,
    # billed at the cached price, and the report counts it.
    cached = sum(c.tokens_cached for c in record.calls)
    assert cached > 0 and cost["tokens"]["cached"] == cached
    assert cost["tokens"]["in"] == sum(c.tokens_in for c in record.calls if c.status == 200)
    assert [row["turn"] for row in cost["per_turn"]][:3] == [1, 2, 3]
    assert cost["per_turn"][-1]["prompt_tokens_p50"] > cost["per_turn"][0]["prompt_tokens_p50"]
    assert cost["spend"]["at_volume"]["usd_per_hour"] == pytest.approx(
        cost["spend"]["usd_per_hour"] * 10, rel=1e-3
    )
    assert cost["spend"]["monthly"]["daily_requests"] == 1000
    # The console shows the spend while the run goes, and the cost line at the end.
    assert "/req)" in done.stdout and "cost: $" in done.stdout
    assert "/month at 10×" in done.stdout and "a month at 1,000 requests a day" not in done.stdout
    assert "/month at 1,000 requests a day" in done.stdout
