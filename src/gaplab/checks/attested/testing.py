"""Attested testing items (CHECKLIST.md, "Testing")."""

from __future__ import annotations

from gaplab.checks.attested.base import AttestedCheck


class UnitTests(AttestedCheck):
    id = "testing.unit"
    title = "Unit tests cover the AI feature with the model mocked"
    area = "testing"
    question = "Do unit tests cover the code around the AI call, with the model mocked?"
    why = (
        "The code around a model call (prompt building, parsing, fallbacks, limits) is "
        "ordinary code with ordinary bugs. Tests with the model mocked run in milliseconds "
        "on every change; without them every prompt tweak is a gamble."
    )


class FaultIntegrationTests(AttestedCheck):
    id = "testing.fault_integration"
    title = "Integration tests drive the failure paths"
    area = "testing"
    question = (
        "Do integration tests drive the failure paths (timeouts, 429, 5xx, bad outputs) "
        "against a mock provider?"
    )
    why = (
        "Fallbacks that never run in a test break silently: the first outage is their first "
        "run. Integration tests against a provider that fails on purpose (gaplab's mock "
        "provider, `lab provider serve`) keep them working."
    )


class Evals(AttestedCheck):
    id = "testing.evals"
    title = "Evals on a fixed set of cases"
    area = "testing"
    question = "Is answer quality measured with evals on a fixed, versioned set of cases?"
    why = (
        "Whether the answers are good cannot be unit-tested. A fixed set of real cases, "
        "scored the same way every time, is how a team knows a prompt change made things "
        "better and not just different."
    )


class EvalsOnModelChange(AttestedCheck):
    id = "testing.evals_on_model_change"
    title = "Evals rerun when the model or the prompt changes"
    area = "testing"
    question = "Are the evals rerun (and gate the release) whenever the model or prompt changes?"
    why = (
        "A new model version or a reworded prompt changes every answer at once. Evals that "
        "run only when someone remembers catch the regression after users do."
    )


TESTING_ITEMS = (UnitTests(), FaultIntegrationTests(), Evals(), EvalsOnModelChange())
