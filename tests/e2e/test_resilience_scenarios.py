"""The nine resilience scenarios of the answer, retry, stream and model checks, short,
against real demo targets (subprocesses, real sockets, the real mock provider): the naive
demo fails each new check with evidence naming the requests, the calls the provider saw
for them, the gaps between retries and the models asked for and served; the hardened demo
passes; switching off one defence fails exactly the checks it owns.

The naive demo passes `resilience.retry_transient`: the official SDK's default retries (two,
with backoff) are exactly what the check asks for; `demo:hardened?without=retry` fails it.
`bad_outputs` is also played on the chat endpoint (without its invalid-JSON phase), where
the output check alone stands between a bad answer and the user: on the JSON endpoint the
contract catches what the output check misses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gaplab.checks.base import Verdict
from gaplab.demo.ownership import EXERCISES, OWNERSHIP, Exercise
from gaplab.matrix.plan import Job, owners_by_exercise, write_scenario

from .short import explain, run_targets, verdicts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

F, P = Verdict.FAIL, Verdict.PASS
# scenario -> naive's verdicts. Which defences' removal fails which checks, the phase scale
# and the demo options come from the ownership table (gaplab.demo.ownership), as `lab
# matrix` reads them.
NAIVE: dict[str, dict[str, Verdict]] = {
    "transient_blip": {"resilience.retry_transient": P},
    "permanent_errors": {"resilience.no_retry_permanent": F},
    "retry_after": {"resilience.retry_after": F},
    "bad_outputs": {"resilience.bad_output": F},
    "bad_outputs_chat": {"resilience.bad_output": F},
    "stream_faults": {"resilience.stream_integrity": F},
    "model_swap": {"resilience.model_pinned": F},
    "latency_spike": {"resilience.timeout": F, "resilience.contained": P},
    "latency_drift": {"resilience.timeout": F, "resilience.contained": P},
    "token_window": {"resilience.fallback": F, "resilience.retry_after": P},
}
OWNERS = owners_by_exercise(OWNERSHIP)
# No defence owns what token_window measures: it is played as the others are.
EXERCISE = {
    **EXERCISES,
    "token_window": Exercise("token_window", "chat", shortest=0.8, min_phase=3.0),
}


# What a naive failure must show besides its verdict: the requests (in the summary), and
# the calls the provider saw for them, the gaps between retries, the models.
EVIDENCE: dict[str, Callable[[dict[str, Any]], bool]] = {
    "resilience.no_retry_permanent": lambda n: (
        n["retried"] > 0
        and "429 at" in n["failures"][0]["trace"]
        and n["calls_per_request"]["429"] > 1
    ),
    "resilience.retry_after": lambda n: n["shortest_gap_s"] < n["asked_s"] == 2.0,
    "resilience.bad_output": lambda n: bool(n["failures"][0]["model_answer"]),
    "resilience.stream_integrity": lambda n: bool(n["failures"][0]["problem"]),
    "resilience.model_pinned": lambda n: (
        n["aliases_asked"] == ["gpt-4o-mini"]
        and n["swap_failures"][0]["served"] == "gpt-4.1-mini-2025-04-14"
    ),
}


def _scenario(name: str, tmp_path: Path) -> Path:
    exercise = EXERCISE[name]
    return write_scenario(exercise, name, exercise.shortest, tmp_path)


@pytest.mark.parametrize("name", sorted(NAIVE))
async def test_naive_fails_hardened_passes_and_each_owner_flips_only_its_checks(
    name: str, tmp_path: Path
) -> None:
    expected, owners = NAIVE[name], OWNERS.get(name, {})
    base = Job(name, None).target(EXERCISE[name])
    variants = {d: Job(name, d).target(EXERCISE[name]) for d in owners}
    targets = ["demo:naive", base, *variants.values()]
    results = await run_targets(_scenario(name, tmp_path), targets, tmp_path / "runs")
    naive, hardened = results["demo:naive"], results[base]
    assert verdicts(naive) == expected, explain(naive)
    for failed in (r for r in naive.scorecard.results if r.id in EVIDENCE and r.verdict is F):
        assert any(e in failed.summary for e in failed.evidence.examples), failed.summary
        assert EVIDENCE[failed.id](failed.evidence.numbers), failed.evidence.numbers
    assert set(verdicts(hardened).values()) == {P}, explain(hardened)
    checks = set(verdicts(hardened))
    for result in (naive, hardened):
        assert not any(r.borderline for r in result.scorecard.results), explain(result)
    for defence, owned in owners.items():
        without = results[variants[defence]]
        got = verdicts(without)
        assert {c for c, v in got.items() if v is F} == set(owned), (defence, explain(without))
        assert {c for c, v in got.items() if v is P} == checks - set(owned), explain(without)
