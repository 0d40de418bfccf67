"""cost.batching: non-interactive work is batched (attested: the run cannot see it)."""

from __future__ import annotations

from typing import Any

from gaplab.checks.base import Check, CheckContext, CheckResult, EvidenceKind, Undecided

ATTESTATION_FILE = "readiness.attest.yaml"


class BatchingCheck(Check):
    id = "cost.batching"
    title = "Non-interactive work is batched"
    area = "cost"
    kind = EvidenceKind.ATTESTED
    why = (
        "Summaries overnight, classification of a backlog, embeddings of a document store: "
        "work nobody waits for costs about half as much through a provider's batch API, "
        "and does not compete with users for the rate limit. A load test cannot see "
        "whether it is done; the team can say so."
    )

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        raise Undecided(f"attested item: answer it in {ATTESTATION_FILE}")
