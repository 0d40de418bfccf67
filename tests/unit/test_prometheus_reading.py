"""Reading a target's Prometheus text with the official parser: declared names found as a
user writes them (a counter with `_total`, before it has any series), percentiles from
summed buckets, and the model label missing only once calls were observed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from gaplab.scenario.probe_models import MetricsSpec
from gaplab.target.prometheus import quantile, read_metrics

SPEC = MetricsSpec.model_validate(
    {
        "latency_histogram": "app_ai_seconds",
        "tokens": {"input": "app_in_tokens_total", "output": "app_out_tokens_total"},
        "model_label": "model",
    }
)


def exposition(calls: list[tuple[str, float]], *, label: bool = True) -> str:
    registry = CollectorRegistry()
    labels = ["model"] if label else ["outcome"]
    latency = Histogram("app_ai_seconds", "d", labels, buckets=(0.5, 1.0, 2.0),
                        registry=registry)  # fmt: skip
    tokens_in = Counter("app_in_tokens", "i", ["model"], registry=registry)
    tokens_out = Counter("app_out_tokens", "o", ["model"], registry=registry)
    for model, seconds in calls:
        latency.labels(model if label else "ok").observe(seconds)
        tokens_in.labels(model).inc(100)
        tokens_out.labels(model).inc(10)
    return generate_latest(registry).decode()


def test_before_any_call_nothing_is_missing() -> None:
    """The first scrape comes before the first call: counters have no series yet."""
    reading = read_metrics(exposition([]), SPEC)
    assert reading.missing == () and reading.count == 0.0 and reading.tokens_in == 0


def test_counts_tokens_and_models_after_calls() -> None:
    calls = [("m-1", 0.3), ("m-1", 0.7), ("m-2", 1.5), ("m-2", 1.7)]
    reading = read_metrics(exposition(calls), SPEC)
    assert reading.missing == ()
    assert reading.count == 4 and reading.tokens_in == 400 and reading.tokens_out == 40
    assert dict(reading.models) == {"m-1": 2.0, "m-2": 2.0}
    assert dict(reading.buckets) == {0.5: 1.0, 1.0: 2.0, 2.0: 4.0}
    assert quantile(reading.buckets, reading.count, 0.5) == 1.0
    assert quantile(reading.buckets, reading.count, 0.75) == 1.5


def test_a_missing_name_or_label_is_reported() -> None:
    spec = SPEC.model_copy(update={"latency_histogram": "app_nope_seconds"})
    assert read_metrics(exposition([("m", 0.2)]), spec).missing == ("app_nope_seconds",)
    no_label = read_metrics(exposition([("m", 0.2)], label=False), SPEC)
    assert no_label.missing == ("label model",)
    assert read_metrics(exposition([], label=False), SPEC).missing == ()  # nothing observed
