"""The readiness scenarios (observability, user_burst, kill_switch, slow_writes), short,
against real demo targets with the real prober: the naive demo fails the measured and
probed items it can be judged on (and is not_run where it declares nothing to probe), the
hardened demo passes every one, and switching off one defence fails exactly the checks it
owns."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaplab.checks.base import EvidenceKind, Verdict

from .short import explain, run_targets, short_copy, verdicts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

# scenario -> (phase scale, naive's verdicts, the defences and the checks each owns)
CASES: dict[str, tuple[float, dict[str, Verdict], dict[str, list[str]]]] = {
    "observability": (
        0.7,
        {
            "observability.correlation": Verdict.FAIL,
            "observability.health_degraded": Verdict.FAIL,
            # demo:naive declares no metrics: never a fail for what is not declared
            "observability.latency_metrics": Verdict.NOT_RUN,
            "observability.token_metrics": Verdict.NOT_RUN,
            "observability.model_metrics": Verdict.NOT_RUN,
        },
        {
            "health": ["observability.health_degraded"],
            "metrics": [
                "observability.latency_metrics",
                "observability.token_metrics",
                "observability.model_metrics",
            ],
        },
    ),
    "user_burst": (
        0.6,
        {"integration.concurrency_limit": Verdict.FAIL},
        {"bulkhead": ["integration.concurrency_limit"]},
    ),
    "kill_switch": (
        0.6,
        {"integration.kill_switch": Verdict.NOT_RUN},
        {"kill_switch": ["integration.kill_switch"]},
    ),
    "slow_writes": (
        0.6,
        {
            "integration.async_write": Verdict.FAIL,
            "integration.idempotent_enrichment": Verdict.FAIL,
        },
        {
            "async_write": ["integration.async_write"],
            "idempotency": ["integration.idempotent_enrichment"],
        },
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_naive_fails_hardened_passes_and_each_owner_flips_only_its_checks(
    name: str, tmp_path: Path
) -> None:
    scale, naive_wanted, owners = CASES[name]
    targets = ["demo:naive", "demo:hardened"] + [f"demo:hardened?without={d}" for d in owners]
    results = await run_targets(short_copy(name, tmp_path, scale), targets, tmp_path / "runs")
    naive, hardened = results["demo:naive"], results["demo:hardened"]
    checks = set(verdicts(hardened))
    assert set(verdicts(hardened).values()) == {Verdict.PASS}, explain(hardened)
    assert verdicts(naive) == naive_wanted, explain(naive)
    for result in (naive, hardened):
        assert not any(r.borderline for r in result.scorecard.results), explain(result)
    for failed in (r for r in naive.scorecard.results if r.verdict is Verdict.FAIL):
        assert failed.evidence.numbers, explain(naive)
    for passed in hardened.scorecard.results:
        probed = passed.id.split(".")[1] not in ("correlation", "concurrency_limit", "async_write")
        kind = EvidenceKind.PROBED if probed else EvidenceKind.MEASURED
        assert passed.evidence.kind is kind, passed.id
    for defence, owned in owners.items():
        got = verdicts(results[f"demo:hardened?without={defence}"])
        assert {c for c, v in got.items() if v is Verdict.FAIL} == set(owned), (
            defence,
            explain(results[f"demo:hardened?without={defence}"]),
        )
        assert {c for c, v in got.items() if v is Verdict.PASS} == checks - set(owned)
