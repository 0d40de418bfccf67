"""What the target's metrics said between two moments: differences of the scrapes the
prober took (gaplab.engine.events.MetricsScraped), shared by the metrics checks.

Counters and histograms only grow, so what happened in a window is the last scrape inside
it minus the first one; a restart of the target (a counter going down) is reported, not
hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from gaplab.checks.base import CheckContext, Undecided
from gaplab.engine.events import MetricsScraped
from gaplab.target.prometheus import quantile


@dataclass(frozen=True)
class Increase:
    first: MetricsScraped
    last: MetricsScraped
    count: float
    buckets: tuple[tuple[float, float], ...]
    models: dict[str, float]

    def percentile(self, q: float) -> float | None:
        return quantile(self.buckets, self.count, q)


def declared_metrics(ctx: CheckContext, what: str, field: str | None = None) -> None:
    """`Undecided` unless the target file declares `metrics:` with `what` (e.g. the
    latency histogram), and, when `field` is given, sets `metrics.<field>`; without a
    target (an old journal) the check still judges."""
    target = ctx.target
    if target is None:
        return
    if target.metrics is None:
        raise Undecided(f"declare `metrics:` in the target file (with {what}) to judge this")
    if field is not None and getattr(target.metrics, field) is None:
        raise Undecided(f"declare `metrics.{field}` in the target file")


def good_scrapes(ctx: CheckContext) -> list[MetricsScraped]:
    """Scrapes that read the metrics; `Undecided` if none was taken, a `str` reason via
    `MetricsFailed` if the endpoint never answered with metrics."""
    scrapes = ctx.record.scrapes
    if not scrapes:
        raise Undecided("the lab took no scrape of the target's metrics")
    good = [s for s in scrapes if s.status == 200 and not s.detail]
    if not good:
        last = scrapes[-1]
        why = last.detail or f"HTTP {last.status}"
        raise MetricsFailed(f"the metrics endpoint never answered with metrics ({why})")
    return good


class MetricsFailed(Exception):
    """The target declared metrics that could not be read: the check fails with this."""


def increase(scrapes: list[MetricsScraped], start: float, end: float) -> Increase | None:
    """The increase between the first and the last scrape taken in [start, end]."""
    inside = [s for s in scrapes if start <= s.t <= end]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    before = dict(first.buckets)
    buckets = tuple((bound, value - before.get(bound, 0.0)) for bound, value in last.buckets)
    count = (last.count or 0.0) - (first.count or 0.0)
    old_models = dict(first.models)
    models = {m: v - old_models.get(m, 0.0) for m, v in last.models}
    return Increase(first, last, count, buckets, models)
