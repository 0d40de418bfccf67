"""The readiness scenarios (observability, user_burst, kill_switch, slow_writes), short,
against real demo targets with the real prober: the naive demo fails the measured and
probed items it can be judged on (and is not_run where it declares nothing to probe), the
hardened demo passes every one, and switching off one defence fails exactly the checks it
owns."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaplab.checks.base import EvidenceKind, Verdict
from gaplab.demo.ownership import EXERCISES, OWNERSHIP
from gaplab.matrix.plan import owners_by_exercise

from .short import explain, run_targets, short_copy, verdicts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

F, N = Verdict.FAIL, Verdict.NOT_RUN
# scenario -> naive's verdicts. The phase scale and which defences' removal fails which
# checks come from the ownership table (gaplab.demo.ownership), as `lab matrix` reads them.
NAIVE: dict[str, dict[str, Verdict]] = {
    "observability": {
        "observability.correlation": F,
        "observability.health_degraded": F,
        # demo:naive declares no metrics: never a fail for what is not declared
        "observability.latency_metrics": N,
        "observability.token_metrics": N,
        "observability.model_metrics": N,
    },
    "user_burst": {"integration.concurrency_limit": F},
    "kill_switch": {"integration.kill_switch": N},  # naive declares no kill switch
    "slow_writes": {"integration.async_write": F, "integration.idempotent_enrichment": F},
}
OWNERS = owners_by_exercise(OWNERSHIP)


@pytest.mark.parametrize("name", sorted(NAIVE))
async def test_naive_fails_hardened_passes_and_each_owner_flips_only_its_checks(
    name: str, tmp_path: Path
) -> None:
    naive_wanted, owners = NAIVE[name], OWNERS[name]
    scale = EXERCISES[name].shortest
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
