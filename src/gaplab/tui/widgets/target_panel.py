"""What the target is doing, as the lab sees it from outside: requests in flight and the age
of the oldest (the signal during a hang: nothing finishes), answers in the last seconds,
upstream calls per user request, retries the provider saw (`x-stainless-retry-count`),
the read timeout the SDK announced, why users got errors, cost per request and the spend
rate, unsafe answers with their reason, dropped arrivals and the lab's own loop lag.

One `Static` holding a two-column grid; its text is rebuilt once per tick and set only
when it changed. Numbers go through `gaplab.report.figures`, as in every report.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from gaplab.metrics.snapshot import Snapshot
from gaplab.report import figures

MAX_REASONS_SHOWN = 3


def reasons_text(reasons: dict[str, int]) -> str:
    shown = [f"{r} ×{n:,}" for r, n in list(reasons.items())[:MAX_REASONS_SHOWN]]
    more = len(reasons) - MAX_REASONS_SHOWN
    return ", ".join(shown) + (f", +{more} more" if more > 0 else "") if shown else "none"


def rows_of(snapshot: Snapshot) -> list[tuple[str, str, str]]:
    """(label, value, style) rows; style "" or a theme-ish word the panel maps to colour."""
    rows: list[tuple[str, str, str]] = []
    flight = snapshot.in_flight
    if flight is not None:
        oldest = figures.duration(flight.oldest_s) if flight.oldest_s is not None else "-"
        alarm = flight.oldest_s is not None and flight.oldest_s > 5
        rows.append(
            (
                "in flight",
                f"{flight.users:,} requests · oldest {oldest} · {flight.upstream:,} upstream",
                "alarm" if alarm else "",
            )
        )
    rolling = snapshot.rolling
    if rolling is not None:
        latency = rolling.latency
        if latency.count:
            answers = (
                f"{rolling.requests_per_second:.1f}/s · p50 {figures.duration(latency.p50)} · "
                f"p95 {figures.duration(latency.p95)} · p99 {figures.duration(latency.p99)}"
            )
        else:
            answers = "none finished"
        rows.append((f"answers ({rolling.seconds:g} s)", answers, "" if latency.count else "alarm"))
        run_ratio = (
            snapshot.provider_calls / sum(snapshot.totals.values())
            if any(snapshot.totals.values())
            else None
        )
        rows.append(
            (
                "calls per request",
                f"{figures.ratio(rolling.calls_per_request)} now · {figures.ratio(run_ratio)} run",
                "warn" if (rolling.calls_per_request or 0) > 1.5 else "",
            )
        )
        rows.append(
            (
                "retries seen",
                f"{rolling.retries:,} now · {snapshot.retries:,} run",
                "warn" if rolling.retries else "",
            )
        )
        rows.append(
            (
                "SDK read timeout",
                figures.duration(snapshot.read_timeout)
                if snapshot.read_timeout is not None
                else "not announced",
                "warn" if (snapshot.read_timeout or 0) > 60 else "",
            )
        )
        rows.append(
            (
                "errors",
                reasons_text(rolling.error_reasons) + " now",
                "alarm" if rolling.error_reasons else "",
            )
        )
        rows.append(
            (
                "cost",
                f"{figures.usd(rolling.cost_per_request)}/request · "
                f"{figures.usd(rolling.spend_per_second * 60)}/min · "
                f"{figures.usd(snapshot.cost_usd)} run",
                "",
            )
        )
    unsafe = snapshot.totals.get("unsafe", 0)
    latest = snapshot.unsafe_recent[-1] if snapshot.unsafe_recent else None
    rows.append(
        (
            "unsafe answers",
            f"{unsafe:,}" + (f" · latest: {latest.reason or 'unsafe'}" if latest else ""),
            "alarm" if unsafe else "",
        )
    )
    lab = snapshot.lab
    lag = figures.duration(lab.window_lag_p99) if lab is not None else "-"
    rows.append(
        (
            "lab",
            f"loop lag p99 {lag} · dropped arrivals {snapshot.dropped:,}",
            "warn" if snapshot.dropped or (lab and (lab.window_lag_p99 or 0) > 0.05) else "",
        )
    )
    return rows


class TargetPanel(Static):
    """`show(snapshot)` once per tick; `styles_for` maps row styles to theme colours."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.rows: list[tuple[str, str, str]] = []

    def show(self, snapshot: Snapshot) -> None:
        rows = rows_of(snapshot)
        if rows == self.rows:
            return
        self.rows = rows
        theme = self.app.theme_variables
        colours = {"alarm": theme.get("error", "red"), "warn": theme.get("warning", "yellow")}
        # Plain lines with a fixed label column: a Rich table per tick cost ~2 ms to lay out.
        width = max(len(label) for label, _, _ in rows) + 1
        text = Text(no_wrap=False, overflow="fold")
        for index, (label, value, style) in enumerate(rows):
            if index:
                text.append("\n")
            text.append(label.ljust(width), style="dim")
            text.append(value, style=colours.get(style, ""))
        self.update(text)

    def value(self, label: str) -> str:
        """The text shown for `label` (tests read the panel this way)."""
        return next((v for lbl, v, _ in self.rows if lbl.startswith(label)), "")
