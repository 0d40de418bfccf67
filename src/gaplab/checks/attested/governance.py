"""Attested governance items (CHECKLIST.md, "Governance")."""

from __future__ import annotations

from gaplab.checks.attested.base import AttestedCheck


class DataMap(AttestedCheck):
    id = "governance.data_map"
    title = "A field map of the data sent to the AI exists"
    area = "governance"
    question = "Is there a written map of which fields of which records are sent to the model?"
    why = (
        "Privacy reviews, DPIAs and customers' security questionnaires all start with "
        "'what data goes to the AI provider?'. A field-level map answers it in minutes and "
        "shows where minimisation is needed."
    )


class ProcessorTerms(AttestedCheck):
    id = "governance.processor_terms"
    title = "The provider's processing terms are in place"
    area = "governance"
    question = "Are the provider's DPA, data retention, training use and region known and agreed?"
    why = (
        "Sending personal data to a model provider makes it a processor: a signed DPA, a "
        "known retention period, no training on your data and the processing region are "
        "legal requirements, not preferences."
    )


class Erasure(AttestedCheck):
    id = "governance.erasure"
    title = "Deletion requests cover AI data"
    area = "governance"
    question = "Do deletion requests also erase AI data (prompts, logs, caches, embeddings)?"
    why = (
        "A user's right to erasure covers every copy: prompt logs, answer caches, vector "
        "stores, the provider's retained requests. Deleting the account row alone leaves "
        "the AI copies behind."
    )


class AuditTrail(AttestedCheck):
    id = "governance.audit_trail"
    title = "An audit trail of AI processing exists"
    area = "governance"
    question = "Is there an audit trail of AI processing (who, what data, which model, when)?"
    why = (
        "When an answer is challenged (a complaint, a regulator, a court) the team must "
        "show what the model was given and what it said, with which model and prompt "
        "version, for that user, on that day."
    )


GOVERNANCE_ITEMS = (DataMap(), ProcessorTerms(), Erasure(), AuditTrail())
