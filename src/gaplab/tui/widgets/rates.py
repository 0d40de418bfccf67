"""Per-second sparklines: user-side latency (p95 of AI requests finished in each second)
and provider calls per second, with the run's percentiles and amplification beside them.

Sparkline data comes from the snapshot's bounded per-second window (120 s at most), so a
tick costs the same at 1 request/s and at 1,000.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline

from gaplab.metrics.snapshot import Snapshot


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.0f} ms"


def latency_series(snapshot: Snapshot) -> list[float]:
    """p95 per second in ms; a second with no finished request draws as 0."""
    return [(b.p95 or 0.0) * 1000 for b in snapshot.seconds]


def calls_series(snapshot: Snapshot) -> list[float]:
    return [float(b.provider_calls) for b in snapshot.seconds]


def amplification(snapshot: Snapshot) -> float | None:
    requests = sum(snapshot.totals.values())
    return snapshot.provider_calls / requests if requests else None


class RatesPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Label("latency", id="latency-label", classes="rate-title")
        yield Sparkline([], id="latency-spark", summary_function=max)
        yield Label("provider calls", id="calls-label", classes="rate-title")
        yield Sparkline([], id="calls-spark", summary_function=max)

    def show(self, snapshot: Snapshot) -> None:
        latency = snapshot.latency
        amp = amplification(snapshot)
        self._set_label(
            "#latency-label",
            f"latency p50 {ms(latency.p50)} · p95 {ms(latency.p95)} · p99 {ms(latency.p99)}",
        )
        self._set_label(
            "#calls-label",
            f"provider {snapshot.provider_calls_per_second:.1f} calls/s · "
            f"{snapshot.provider_calls:,} calls · "
            f"{'-' if amp is None else f'{amp:.2f}'} per request · ${snapshot.cost_usd:.4f}",
        )
        self._set_spark("#latency-spark", latency_series(snapshot))
        self._set_spark("#calls-spark", calls_series(snapshot))

    def _set_label(self, selector: str, text: str) -> None:
        label = self.query_one(selector, Label)
        if str(label.content) != text:
            label.update(text)

    def _set_spark(self, selector: str, data: list[float]) -> None:
        spark = self.query_one(selector, Sparkline)
        if list(spark.data or ()) != data:
            spark.data = data
