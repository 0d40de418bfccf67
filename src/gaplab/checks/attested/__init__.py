"""Attested items (CHECKLIST.md, evidence kind "attested"): answered in the attestation
file, shown as attested, scored in their own column (gaplab.checks.scoring)."""

from __future__ import annotations

from gaplab.checks.attested.base import AttestedCheck
from gaplab.checks.attested.governance import GOVERNANCE_ITEMS
from gaplab.checks.attested.operations import OPERATIONS_ITEMS
from gaplab.checks.attested.testing import TESTING_ITEMS

ATTESTED_CHECKS: tuple[AttestedCheck, ...] = (
    *OPERATIONS_ITEMS,
    *GOVERNANCE_ITEMS,
    *TESTING_ITEMS,
)

__all__ = ["ATTESTED_CHECKS", "AttestedCheck"]
