"""Integration checks (CHECKLIST.md, "Integration"): a bulkhead under a burst and writes
that do not wait for the AI (measured), a kill switch and idempotent enrichment (probed,
through the target file's `kill_switch:`, `write:` and `enrichment:`)."""

from gaplab.checks.base import Check
from gaplab.checks.integration.async_write import AsyncWriteCheck
from gaplab.checks.integration.concurrency_limit import ConcurrencyLimitCheck
from gaplab.checks.integration.idempotent_enrichment import IdempotentEnrichmentCheck
from gaplab.checks.integration.kill_switch import KillSwitchCheck

INTEGRATION_CHECKS: tuple[Check, ...] = (
    ConcurrencyLimitCheck(),
    AsyncWriteCheck(),
    KillSwitchCheck(),
    IdempotentEnrichmentCheck(),
)

__all__ = ["INTEGRATION_CHECKS"]
