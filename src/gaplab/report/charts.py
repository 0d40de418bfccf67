"""Inline SVG charts for the HTML report: outcomes, latency and upstream calls over the run
with the phases drawn behind them, and a histogram of the cost per request.

Written by hand rather than with a charting library, measured against the candidates:
pygal (133 KB wheel) loads its tooltip script from a CDN by default (`config.js` points at
kozea.github.io), which an offline page must not do, and has no shaded x-ranges for fault
phases; leather (30 KB, no dependencies) has no shaded ranges or per-element titles either;
matplotlib (9.9 MB wheel plus numpy's 16.9 MB) and plotly (9.7 MB, and its 3.5 MB
JavaScript bundle inlined for offline use) are far heavier than the report they would
draw. What a report needs is small: bars, polylines, bands, axes with round ticks, a
`<title>` per column for hover text without JavaScript. Colours come from CSS classes
(`o-ok`, `p95`, `band`...) the page's stylesheet defines.

Long runs are drawn in buckets of several seconds (at most `MAX_COLUMNS` columns): counts
are summed, latency percentiles take the bucket's highest per-second value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 760, 210
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 22, 28
MAX_COLUMNS = 240
LABEL_CHAR = 6.2  # px per character of an 11 px label, roughly


@dataclass(frozen=True)
class Band:
    """A phase: `start`/`end` in chart seconds, its faults shown on hover."""

    name: str
    start: float
    end: float
    faults: tuple[str, ...]
    outage: bool


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least `top` (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def bucket_size(points: int) -> int:
    return max(1, math.ceil(points / MAX_COLUMNS))


def rebucket(values: Sequence[float | None], size: int, *, summed: bool) -> list[float | None]:
    """Columns of `size` seconds: summed counts, or the highest value (latencies)."""
    out: list[float | None] = []
    for i in range(0, len(values), size):
        chunk = [v for v in values[i : i + size] if v is not None]
        out.append((sum(chunk) if summed else max(chunk)) if chunk else (0.0 if summed else None))
    return out


class _Plot:
    """Coordinates of one chart: x in chart seconds, y in the chart's unit."""

    def __init__(self, x0: float, x1: float, ymax: float) -> None:
        self.x0, self.x1 = x0, max(x1, x0 + 1)
        self.ticks = nice_ticks(ymax)
        self.ymax = self.ticks[-1]

    def x(self, t: float) -> float:
        return LEFT + (t - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def y(self, v: float) -> float:
        return HEIGHT - BOTTOM - v / self.ymax * (HEIGHT - TOP - BOTTOM)


def _svg(chart_id: str, title: str, body: list[str]) -> str:
    return (
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>{"".join(body)}</svg>'
    )


def _axes(plot: _Plot, fmt: Callable[[float], str], x_ticks: bool = True) -> list[str]:
    parts = []
    for tick in plot.ticks:
        y = plot.y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(tick))}</text>"
        )
    if x_ticks:
        for t in nice_ticks(plot.x1 - plot.x0, 8):
            if t > plot.x1 - plot.x0 + 1e-9:
                break
            x = plot.x(plot.x0 + t)
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{t:g} s</text>'
            )
    return parts


def _bands(plot: _Plot, bands: Sequence[Band]) -> list[str]:
    parts = []
    for band in bands:
        x0, x1 = plot.x(band.start), plot.x(min(band.end, plot.x1))
        kind = "outage" if band.outage else "fault" if band.faults else "calm"
        hover = escape(f"{band.name}: {'; '.join(band.faults) or 'no faults'}")
        # A label wider than its band would overprint its neighbours': hover shows it then.
        fits = x1 - x0 >= LABEL_CHAR * len(band.name) + 8
        label = (
            f'<text class="band-label" x="{x0 + 4:.1f}" y="{TOP - 6}">{escape(band.name)}</text>'
            if fits
            else ""
        )
        parts.append(
            f'<g class="band {kind}"><title>{hover}</title>'
            f'<rect x="{x0:.1f}" y="{TOP}" width="{max(0.0, x1 - x0):.1f}" '
            f'height="{HEIGHT - TOP - BOTTOM}"/>{label}</g>'
        )
    return parts


def _bucket_note(size: int) -> list[str]:
    if size == 1:
        return []
    return [
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{TOP - 6}" text-anchor="end">'
        f"each column: {size} s</text>"
    ]


def stacked_bars(
    chart_id: str,
    title: str,
    t0: float,
    stacks: dict[str, Sequence[float]],
    bands: Sequence[Band],
    *,
    unit: str,
) -> str:
    """One column per second (or bucket), its series stacked in the order given; a column's
    `<title>` lists its values. `t0`: chart seconds of the first column."""
    length = max((len(v) for v in stacks.values()), default=0)
    size = bucket_size(length)
    columns = {k: [v or 0.0 for v in rebucket(vs, size, summed=True)] for k, vs in stacks.items()}
    count = math.ceil(length / size) if length else 0
    totals = [sum(col[i] for col in columns.values()) for i in range(count)]
    plot = _Plot(t0, t0 + length, max(totals, default=0))
    body = _bands(plot, bands) + _axes(plot, lambda v: f"{v:g}") + _bucket_note(size)
    width = max(0.5, plot.x(t0 + size) - plot.x(t0) - 0.6)
    for i in range(count):
        x, base = plot.x(t0 + i * size), 0.0
        hover = ", ".join(f"{k} {col[i]:g}" for k, col in columns.items() if col[i])
        rects = []
        for kind, col in columns.items():
            if col[i]:
                top = plot.y(base + col[i])
                rects.append(
                    f'<rect class="s-{kind}" x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" '
                    f'height="{plot.y(base) - top:.1f}"/>'
                )
                base += col[i]
        if rects:
            when = f"{i * size:g}-{(i + 1) * size:g} s" if size > 1 else f"{i:g} s"
            body.append(
                f"<g><title>{escape(f'{when}: {hover} {unit}')}</title>{''.join(rects)}</g>"
            )
    return _svg(chart_id, title, body)


def lines(
    chart_id: str,
    title: str,
    t0: float,
    series: dict[str, Sequence[float | None]],
    bands: Sequence[Band],
    *,
    fmt: Callable[[float], str],
) -> str:
    """One polyline per series; a missing value (no request finished) breaks the line."""
    length = max((len(v) for v in series.values()), default=0)
    size = bucket_size(length)
    columns = {k: rebucket(vs, size, summed=False) for k, vs in series.items()}
    known = [v for col in columns.values() for v in col if v is not None]
    plot = _Plot(t0, t0 + length, max(known, default=0.0))
    body = _bands(plot, bands) + _axes(plot, fmt) + _bucket_note(size)
    for name, col in columns.items():
        runs: list[list[str]] = [[]]
        for i, v in enumerate(col):
            if v is None:
                runs.append([])
                continue
            runs[-1].append(f"{plot.x(t0 + (i + 0.5) * size):.1f},{plot.y(v):.1f}")
        for run in runs:
            if len(run) == 1:
                x, y = run[0].split(",")
                body.append(f'<circle class="s-{name}" cx="{x}" cy="{y}" r="2"/>')
            elif run:
                body.append(f'<polyline class="s-{name}" points="{" ".join(run)}"/>')
    return _svg(chart_id, title, body)


def histogram(
    chart_id: str,
    title: str,
    edges: Sequence[float],
    counts: Sequence[int],
    *,
    fmt: Callable[[float], str],
) -> str:
    """Bars over `edges` (len(counts) + 1 values); x ticks at the first, middle and last."""
    plot = _Plot(0, max(1, len(counts)), max(counts, default=0))
    body = _axes(plot, lambda v: f"{v:g}", x_ticks=False)
    width = max(0.5, plot.x(1) - plot.x(0) - 1)
    for i, n in enumerate(counts):
        if not n:
            continue
        top = plot.y(n)
        hover = escape(f"{fmt(edges[i])} to {fmt(edges[i + 1])}: {n:,} requests")
        body.append(
            f'<g><title>{hover}</title><rect class="s-cost" x="{plot.x(i):.1f}" '
            f'y="{top:.1f}" width="{width:.1f}" height="{plot.y(0) - top:.1f}"/></g>'
        )
    for i in sorted({0, len(counts) // 2, len(counts)}):
        anchor = "start" if i == 0 else "end" if i == len(counts) else "middle"
        body.append(
            f'<text class="tick" x="{plot.x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="{anchor}">{escape(fmt(edges[i]))}</text>'
        )
    return _svg(chart_id, title, body)
