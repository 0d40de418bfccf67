"""Attested items of the observability and cost areas: alerts, batching."""

from __future__ import annotations

from gaplab.checks.attested.base import AttestedCheck


class Alerts(AttestedCheck):
    id = "observability.alerts"
    title = "Alerts exist for cost creep, latency drift and quality drop"
    area = "observability"
    question = "Do alerts fire on cost creep, latency drift and a drop in answer quality?"
    why = (
        "Dashboards are read after someone noticed. AI features degrade slowly (a prompt "
        "grows, a provider gets slower, a new model answers worse), so alerts on cost per "
        "request, p95 latency and an online quality signal are what notices first."
    )


class Batching(AttestedCheck):
    id = "cost.batching"
    title = "Non-interactive work is batched"
    area = "cost"
    question = "Is non-interactive AI work (nightly summaries, backfills) sent through a batch API?"
    why = (
        "Work nobody waits for does not need real-time prices: providers' batch APIs cost "
        "about half, and batching keeps bulk jobs from eating the rate limits the "
        "interactive feature needs."
    )


OPERATIONS_ITEMS = (Alerts(), Batching())
