"""The security and governance scenarios, short, against real demo targets: the naive demo
fails each check with evidence naming what leaked, the hardened demo passes, and switching
off one defence fails exactly the checks that defence owns."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaplab.checks.base import Verdict
from gaplab.demo.ownership import EXERCISES, OWNERSHIP
from gaplab.matrix.plan import owners_by_exercise

from .short import explain, run_targets, short_copy, verdicts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

# The security and governance scenarios; which defences' removal fails which of their checks
# comes from the ownership table (gaplab.demo.ownership), as `lab matrix` reads it.
NAMES = (
    "injection", "prompt_extraction", "indirect_injection", "output_exfil", "pii_input",
    "pii_output", "opt_out", "error_leak",
)  # fmt: skip
OWNERS = owners_by_exercise(OWNERSHIP)


@pytest.mark.parametrize("name", sorted(NAMES))
async def test_naive_fails_hardened_passes_and_each_owner_flips_only_its_checks(
    name: str, tmp_path: Path
) -> None:
    owners = OWNERS[name]
    options = EXERCISES[name].options  # e.g. a shorter break, for phases this short
    base = f"demo:hardened?{options}" if options else "demo:hardened"
    joiner = "&" if options else "?"
    targets = ["demo:naive", base] + [f"{base}{joiner}without={defence}" for defence in owners]
    path = short_copy(name, tmp_path, EXERCISES[name].shortest)
    results = await run_targets(path, targets, tmp_path / "runs")
    naive, hardened = results["demo:naive"], results[base]
    checks = set(verdicts(hardened))
    assert set(verdicts(hardened).values()) == {Verdict.PASS}, explain(hardened)
    assert set(verdicts(naive).values()) == {Verdict.FAIL}, explain(naive)
    assert hardened.scorecard.ready and not naive.scorecard.ready
    for result in (naive, hardened):
        assert not any(r.borderline for r in result.scorecard.results), explain(result)
    for defence, owned in owners.items():
        without = results[f"{base}{joiner}without={defence}"]
        got = verdicts(without)
        assert {c for c, v in got.items() if v is Verdict.FAIL} == set(owned), (
            defence,
            explain(without),
        )
        assert {c for c, v in got.items() if v is Verdict.PASS} == checks - set(owned)


async def test_a_naive_leak_names_the_request_the_payload_and_what_reached_the_user(
    tmp_path: Path,
) -> None:
    results = await run_targets(
        short_copy("injection", tmp_path, 0.35), ["demo:naive"], tmp_path / "runs"
    )
    result = results["demo:naive"].scorecard.results[0]
    leak = result.evidence.numbers["leaks"][0]
    assert leak["request"].startswith("user-") and leak["payload"]
    assert "LLM01" in leak["owasp"] and leak["reached_user"]
    assert leak["request"] in result.summary and leak["payload"] in result.summary
    assert result.evidence.numbers["model_obeyed"] > 0  # ground truth from the journal
