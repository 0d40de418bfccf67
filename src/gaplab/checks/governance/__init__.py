"""Governance checks (CHECKLIST.md, "Governance"), one module each: personal data kept from
the provider and from other users, consent honoured, AI answers disclosed."""

from gaplab.checks.base import Check
from gaplab.checks.governance.ai_disclosure import AiDisclosureCheck
from gaplab.checks.governance.consent import ConsentCheck
from gaplab.checks.governance.pii_in_output import PiiInOutputCheck
from gaplab.checks.governance.pii_minimised import PiiMinimisedCheck

GOVERNANCE_CHECKS: tuple[Check, ...] = (
    PiiMinimisedCheck(),
    PiiInOutputCheck(),
    ConsentCheck(),
    AiDisclosureCheck(),
)

__all__ = ["GOVERNANCE_CHECKS"]
