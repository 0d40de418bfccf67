"""What the target is doing, as the lab sees it from outside: requests in flight and the age
of the oldest (the signal during a hang: nothing finishes), answers in the last seconds,
upstream calls per user request, retries the provider saw (`x-stainless-retry-count`),
the read timeout the SDK announced, why users got errors, cost per request and the spend
rate, unsafe answers with their reason, dropped arrivals and the lab's own loop lag; on
Locust, each worker's share and health (gaplab.tui.widgets.worker_rows).

One `Static` holding a two-column grid; its text is rebuilt once per tick and set only
when it changed. Numbers go through `gaplab.report.figures`, as in every report.
"""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.widgets import Static

from gaplab.metrics.snapshot import RollingFigures, Snapshot
from gaplab.report import figures
from gaplab.tui.widgets.worker_rows import worker_rows

MAX_REASONS_SHOWN = 3


def reasons_text(reasons: dict[str, int]) -> str:
    shown = [f"{r} ×{n:,}" for r, n in list(reasons.items())[:MAX_REASONS_SHOWN]]
    more = len(reasons) - MAX_REASONS_SHOWN
    return ", ".join(shown) + (f", +{more} more" if more > 0 else "") if shown else "none"


def rows_of(snapshot: Snapshot, *, compact: bool = False) -> list[tuple[str, str, str]]:
    """(label, value, style) rows; style "" or a theme-ish word the panel maps to colour.
    `compact` (below 120x34): short labels and values, one line each in ~34 columns."""
    rows: list[tuple[str, str, str]] = []
    flight = snapshot.in_flight
    if flight is not None:
        oldest = figures.duration(flight.oldest_s) if flight.oldest_s is not None else "-"
        alarm = flight.oldest_s is not None and flight.oldest_s > 5
        value = (
            f"{flight.users:,} · oldest {oldest}"
            if compact
            else f"{flight.users:,} requests · oldest {oldest} · {flight.upstream:,} upstream"
        )
        rows.append(("in flight", value, "alarm" if alarm else ""))
    rolling = snapshot.rolling
    if rolling is not None:
        rows += _rolling_rows(snapshot, rolling, compact)
    unsafe = snapshot.totals.get("unsafe", 0)
    latest = snapshot.unsafe_recent[-1] if snapshot.unsafe_recent else None
    why = (latest.reason or "unsafe") if latest else ""
    reason = (f" · {why}" if compact else f" · latest: {why}") if latest else ""
    rows.append(
        (
            "unsafe" if compact else "unsafe answers",
            f"{unsafe:,}" + reason,
            "alarm" if unsafe else "",
        )
    )
    lab = snapshot.lab
    lag = figures.duration(lab.window_lag_p99) if lab is not None else "-"
    lab_text = (
        f"lag {lag} · drop {snapshot.dropped:,}"
        if compact
        else f"loop lag p99 {lag} · dropped arrivals {snapshot.dropped:,}"
    )
    busy = snapshot.dropped or (lab is not None and (lab.window_lag_p99 or 0) > 0.05)
    rows.append(("lab", lab_text, "warn" if busy else ""))
    return rows + worker_rows(snapshot, compact=compact)  # --load locust only


def _rolling_rows(
    snapshot: Snapshot, rolling: RollingFigures, compact: bool
) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    latency = rolling.latency
    if not latency.count:
        answers = "none finished"
    elif compact:
        answers = f"{rolling.requests_per_second:.1f}/s · p95 {figures.duration(latency.p95)}"
    else:
        answers = (
            f"{rolling.requests_per_second:.1f}/s · p50 {figures.duration(latency.p50)} · "
            f"p95 {figures.duration(latency.p95)} · p99 {figures.duration(latency.p99)}"
        )
    label = f"last {rolling.seconds:g} s" if compact else f"answers (last {rolling.seconds:g} s)"
    rows.append((label, answers, "" if latency.count else "alarm"))
    requests = sum(snapshot.totals.values())
    run_ratio = snapshot.provider_calls / requests if requests else None
    now_ratio = figures.ratio(rolling.calls_per_request)
    rows.append(
        (
            "calls/req" if compact else "calls per request",
            f"{now_ratio} now · {figures.ratio(run_ratio)} run",
            "warn" if (rolling.calls_per_request or 0) > 1.5 else "",
        )
    )
    rows.append(
        (
            "retries",
            f"{rolling.retries:,} now · {snapshot.retries:,} run",
            "warn" if rolling.retries else "",
        )
    )
    timeout = snapshot.read_timeout
    rows.append(
        (
            "timeout" if compact else "SDK read timeout",
            figures.duration(timeout) if timeout is not None else "not announced",
            "warn" if (timeout or 0) > 60 else "",
        )
    )
    reasons = reasons_text(rolling.error_reasons)
    rows.append(
        (
            "errors",
            reasons + " now" if rolling.error_reasons else "none now",
            "alarm" if rolling.error_reasons else "",
        )
    )
    per_request = figures.usd(rolling.cost_per_request)
    per_minute = figures.usd(rolling.spend_per_second * 60)
    cost = (
        f"{per_request}/req · {per_minute}/min"
        if compact
        else f"{per_request} per request · {per_minute}/min · {figures.usd(snapshot.cost_usd)} run"
    )
    if rolling.cost_per_request is None:
        cost = cost.replace(f"{per_request}/req", "no requests").replace(
            f"{per_request} per request", "no requests"
        )
    rows.append(("cost", cost, ""))
    return rows


class TargetPanel(Static):
    """`show(snapshot)` once per tick; `styles_for` maps row styles to theme colours."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.rows: list[tuple[str, str, str]] = []
        self.compact = False  # set by the live screen below 120x34
        self._shown_height = -1

    def show(self, snapshot: Snapshot) -> None:
        rows = rows_of(snapshot, compact=self.compact)
        if rows == self.rows:
            return
        self.rows = rows
        theme = self.app.theme_variables
        colours = {"alarm": theme.get("error", "red"), "warn": theme.get("warning", "yellow")}
        # Plain lines with a fixed label column: a Rich table per tick cost ~2 ms to lay out.
        width = max(len(label) for label, _, _ in rows) + 1
        # Compact rows are one line each: a value longer than the panel ends in "…".
        room = max(8, (self.content_size.width or 34) - width) if self.compact else 0
        text = Text()
        for index, (label, value, style) in enumerate(rows):
            if index:
                text.append("\n")
            text.append(label.ljust(width), style="dim")
            if room and len(value) > room:
                value = value[: room - 1] + "…"
            text.append(value, style=colours.get(style, ""))
        # A layout pass only when the panel's height changes (a row added, or one folding
        # onto another line): a layout pass every tick cost ~60 ms at 160x48.
        height = self._height(width)
        self.update(text, layout=height != self._shown_height)
        self._shown_height = height

    def _height(self, label_width: int) -> int:
        """Lines the rows take at the panel's width, wrapped as Rich wraps words."""
        room = self.content_size.width or 60
        return sum(
            len(textwrap.wrap(label.ljust(label_width) + value, room)) or 1
            for label, value, _ in self.rows
        )

    def value(self, label: str) -> str:
        """The text shown for `label` (tests read the panel this way)."""
        return next((v for lbl, v, _ in self.rows if lbl.startswith(label)), "")
