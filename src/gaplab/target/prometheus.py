"""Read a target's Prometheus metrics: the text exposition format, parsed with the official
`prometheus_client` parser (`text_string_to_metric_families`), reduced to what the
observability checks need.

Names are matched as a user writes them: a family name (`demo_ai_call_seconds`) or a
sample name (`demo_ai_input_tokens_total`). Only histograms give latency percentiles (a
`summary`'s quantiles are computed inside one process and cannot be combined, and the
Python client exports none); the buckets of every series are summed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from gaplab.scenario.probe_models import MetricsSpec


@dataclass(frozen=True)
class MetricsReading:
    buckets: tuple[tuple[float, float], ...] = ()  # (upper bound, cumulative count), no +Inf
    count: float | None = None
    total: float | None = None
    tokens_in: float | None = None
    tokens_out: float | None = None
    models: tuple[tuple[str, float], ...] = ()
    missing: tuple[str, ...] = field(default=())


def _matches(metric: Metric, name: str) -> bool:
    # The parser names a counter family without its `_total`, and a family with no series
    # yet (no call made) has no sample to match: `x_total` still names family `x`.
    return (
        metric.name == name
        or (metric.type == "counter" and name == f"{metric.name}_total")
        or any(s.name == name for s in metric.samples)
    )


def _find(families: Iterable[Metric], name: str) -> Metric | None:
    return next((m for m in families if _matches(m, name)), None)


def _counter_total(metric: Metric, name: str) -> float:
    samples = [s for s in metric.samples if s.name == name]
    if not samples:  # the family name was given: its `_total` (or bare) samples
        samples = [s for s in metric.samples if s.name in (metric.name, f"{metric.name}_total")]
    return sum(s.value for s in samples)


def read_metrics(text: str, spec: MetricsSpec) -> MetricsReading:
    """What `text` says about the declared metrics; `ValueError` when it is not the
    Prometheus text format."""
    families = list(text_string_to_metric_families(text))
    missing: list[str] = []
    buckets: dict[float, float] = defaultdict(float)
    count = total = None
    models: dict[str, float] = defaultdict(float)
    label = spec.model_label
    if spec.latency_histogram is not None:
        histogram = _find(families, spec.latency_histogram)
        if histogram is None or histogram.type not in ("histogram", "gaugehistogram"):
            missing.append(spec.latency_histogram)
        else:
            count, total = 0.0, 0.0
            for sample in histogram.samples:
                if sample.name.endswith("_bucket"):
                    bound = float(sample.labels.get("le", "+Inf"))
                    if math.isfinite(bound):
                        buckets[bound] += sample.value
                elif sample.name.endswith("_count"):
                    count += sample.value
                    if label is not None and label in sample.labels:
                        models[sample.labels[label]] += sample.value
                elif sample.name.endswith("_sum"):
                    total += sample.value
    tokens: dict[str, float | None] = {"input": None, "output": None}
    for key in ("input", "output"):
        name = getattr(spec.tokens, key)
        if name is None:
            continue
        counter = _find(families, name)
        if counter is None:
            missing.append(name)
            continue
        tokens[key] = _counter_total(counter, name)
        if label is not None and key == "input" and spec.latency_histogram is None:
            # No histogram declared: the model shows in the input token counter's labels
            # (its values are then tokens, not calls; the checks only compare increases).
            for sample in counter.samples:
                if label in sample.labels and not sample.name.endswith("_created"):
                    models[sample.labels[label]] += sample.value
    observed = (count or 0.0) > 0 or (spec.latency_histogram is None and tokens["input"])
    if label is not None and not models and not missing and observed:
        missing.append(f"label {label}")
    return MetricsReading(
        buckets=tuple(sorted(buckets.items())),
        count=count,
        total=total,
        tokens_in=tokens["input"],
        tokens_out=tokens["output"],
        models=tuple(sorted(models.items())),
        missing=tuple(missing),
    )


def quantile(buckets: Iterable[tuple[float, float]], count: float, q: float) -> float | None:
    """The `q` quantile of observations in cumulative `buckets` (upper bound, count), by
    linear interpolation inside the bucket, as Prometheus' histogram_quantile does; None
    without observations. Observations above the last bound count at that bound."""
    ordered = sorted(buckets)
    if count <= 0 or not ordered:
        return None
    rank = q * count
    lower_bound, lower_count = 0.0, 0.0
    for bound, cumulative in ordered:
        if cumulative >= rank:
            inside = cumulative - lower_count
            if inside <= 0:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / inside
        lower_bound, lower_count = bound, cumulative
    return ordered[-1][0]
