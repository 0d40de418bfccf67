"""integration.idempotent_enrichment: re-triggering enrichment of an item that is already
enriched makes no upstream call.

The prober writes an item whose text carries a reference, waits until the provider journal
shows a completed call with that reference (the item is enriched), then re-triggers its
enrichment a few times; any later call carrying the reference was paid for twice.
"""

from __future__ import annotations

from typing import Any

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckResult,
    EvidenceKind,
    Undecided,
    Verdict,
    margin_none_of,
)
from gaplab.engine.join import call_references


class IdempotentEnrichmentCheck(Check):
    id = "integration.idempotent_enrichment"
    title = "Re-triggering enrichment of an enriched item makes no upstream call"
    area = "integration"
    kind = EvidenceKind.PROBED
    probes = frozenset({"write", "enrichment"})
    why = (
        "Queues deliver twice, users click twice, jobs are re-run after a deploy. If each "
        "delivery enriches the item again, the same work is paid for again (and may change "
        "an answer a user already saw); an idempotent enrichment notices the item is done."
    )

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        target = ctx.target
        if target is not None and (target.write is None or target.enrichment is None):
            raise Undecided("declare `write:` and `enrichment:` in the target file")
        for phase in ctx.scenario.phases:
            ctx.ended(phase)
        again = [a for a in ctx.record.actions if a.action == "re-enrich"]
        if not again:
            writes = [a for a in ctx.record.actions if a.action == "write"]
            if writes and not 200 <= writes[0].status < 300:
                why = writes[0].detail or f"HTTP {writes[0].status}"
                raise Undecided(f"the probe write failed ({why})")
            raise Undecided("the probe item was never enriched, so nothing was re-triggered")
        reference, item = again[0].reference, again[0].item
        carrying = [c for c in ctx.record.calls if reference in call_references(c)]
        first_retrigger = again[0].started
        before = [c for c in carrying if c.t_arrival < first_retrigger]
        repeated = [c for c in carrying if c.t_arrival >= first_retrigger]
        refused = [a for a in again if not 200 <= a.status < 300]
        numbers = {
            "item": item,
            "reference": reference,
            "enrichment_calls": len(before),
            "retriggers": len(again),
            "calls_after_retriggers": len(repeated),
            "retrigger_statuses": sorted({a.status for a in again}),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "margin": margin_none_of(len(repeated), len(again)),
            "limit": "0 upstream calls for re-triggers of an enriched item",
        }
        if refused:
            return self.result(
                Verdict.FAIL,
                f"re-triggering enrichment of item {item} failed "
                f"({refused[0].detail or f'HTTP {refused[0].status}'})",
                **evidence,
            )
        if repeated:
            return self.result(
                Verdict.FAIL,
                f"{len(again)} re-triggers of the enriched item {item} made {len(repeated)} "
                "upstream calls",
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"{len(again)} re-triggers of the enriched item {item} made no upstream call",
            **evidence,
        )
