"""The hardened demo's Prometheus metrics (`GET /metrics`), with the official client.

With the `metrics` defence: `demo_ai_call_seconds` (a histogram of every provider call's
duration, labelled with the model the provider served, or the one asked for when the call
failed, and `outcome` ok|error), `demo_ai_input_tokens_total` and
`demo_ai_output_tokens_total` (the usage the provider reported, per served model).
Without it, the endpoint still answers, with `demo_build_info` only: a service that
exposes metrics but never instrumented its AI calls. A registry per app, so two apps in
one process (tests) never share counters.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class AiMetrics:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.registry = CollectorRegistry()
        Gauge("demo_build_info", "The demo's build", ["demo"], registry=self.registry).labels(
            "hardened"
        ).set(1)
        self._latency: Histogram | None = None
        self._tokens_in: Counter | None = None
        self._tokens_out: Counter | None = None
        if enabled:
            self._latency = Histogram(
                "demo_ai_call_seconds",
                "Duration of provider calls",
                ["model", "outcome"],
                buckets=BUCKETS,
                registry=self.registry,
            )
            self._tokens_in = Counter(
                "demo_ai_input_tokens", "Prompt tokens the provider reported", ["model"],
                registry=self.registry,
            )  # fmt: skip
            self._tokens_out = Counter(
                "demo_ai_output_tokens", "Completion tokens the provider reported", ["model"],
                registry=self.registry,
            )  # fmt: skip

    def observe_call(self, model: str, seconds: float, ok: bool) -> None:
        if self._latency is not None:
            self._latency.labels(model, "ok" if ok else "error").observe(seconds)

    def count_tokens(self, model: str, usage: Any) -> None:
        """`usage` as the SDK gives it (prompt_tokens, completion_tokens), or None."""
        if usage is None or self._tokens_in is None or self._tokens_out is None:
            return
        self._tokens_in.labels(model).inc(getattr(usage, "prompt_tokens", 0) or 0)
        self._tokens_out.labels(model).inc(getattr(usage, "completion_tokens", 0) or 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class Bulkhead:
    """At most `limit` AI calls in flight; `try_enter` says no at once when full (the
    caller sheds the request) rather than queueing it behind the others."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.shed = 0

    def try_enter(self) -> bool:
        if self.in_flight >= self.limit:
            self.shed += 1
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1


class ShedError(Exception):
    """The bulkhead is full: the call was not made."""
