"""The HTML report: one self-contained file that works offline in any browser
(`lab run ... --html FILE`, `lab report RUN --html FILE`).

No external request of any kind: CSS is inline, charts are inline SVG
(gaplab.report.charts), and the page reads fully without JavaScript (items are native
`<details>`); a few lines of inline script only add "expand all" and open every item
before printing. Rendered from `templates/report.html.j2` with autoescape on, from the
report document, whose text is already PII-masked.

`render_html` takes several reports: a suite (one run folder holding several scenario
runs) gets an overview and a section per scenario, each with its own element ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup

from gaplab.engine.events import OUTCOMES
from gaplab.report import charts, figures
from gaplab.report.markdown import section as base_section
from gaplab.report.templating import html_environment

LATENCY_LINES = ("p50_s", "p95_s", "p99_s")


def _origin(report: dict[str, Any]) -> float:
    """Run-clock time of the timeline's start: 0 s on every chart and example."""
    series = report.get("series") or {}
    bands = series.get("bands") or []
    if bands:
        return float(bands[0]["started_s"])
    starts = [p["started_s"] for p in report["phases"] if p.get("started_s") is not None]
    return float(min(starts, default=0.0))


def _bands(series: dict[str, Any], origin: float) -> list[charts.Band]:
    end = series["t_s"][-1] + 1 if series["t_s"] else origin
    return [
        charts.Band(
            b["phase"],
            b["started_s"] - origin,
            (b["ended_s"] if b["ended_s"] is not None else end) - origin,
            tuple(b["faults"]),
            bool(b["outage"]),
        )
        for b in series["bands"]
    ]


def section_charts(report: dict[str, Any], prefix: str) -> dict[str, Markup]:
    """The section's charts by name (outcomes, latency, upstream, cost), as inline SVG."""
    series = report.get("series")
    drawn: dict[str, Markup] = {}
    if series and series["t_s"]:
        origin = _origin(report)
        bands = _bands(series, origin)
        t0 = series["t_s"][0] - origin
        title = report["scenario"]["title"] or report["scenario"]["name"]
        drawn["outcomes"] = Markup(
            charts.stacked_bars(
                f"{prefix}-outcomes",
                f"User outcomes per second: {title}",
                t0,
                {kind: series["outcomes"][kind] for kind in OUTCOMES},
                bands,
                unit="requests",
            )
        )
        drawn["latency"] = Markup(
            charts.lines(
                f"{prefix}-latency",
                f"Latency percentiles of requests finishing each second: {title}",
                t0,
                {name.removesuffix("_s"): series["latency"][name] for name in LATENCY_LINES},
                bands,
                fmt=figures.duration,
            )
        )
        drawn["upstream"] = Markup(
            charts.stacked_bars(
                f"{prefix}-upstream",
                f"Upstream provider calls per second: {title}",
                t0,
                {"calls": series["upstream_calls"]},
                bands,
                unit="calls",
            )
        )
    cost = report.get("cost")
    if cost and cost.get("histogram"):
        drawn["cost"] = Markup(
            charts.histogram(
                f"{prefix}-cost",
                "Cost per user request",
                cost["histogram"]["edges_usd"],
                cost["histogram"]["counts"],
                fmt=figures.usd,
            )
        )
    return drawn


def html_section(report: dict[str, Any], index: int) -> dict[str, Any]:
    prefix = f"s{index}"
    view = base_section(report)
    view.update(
        prefix=prefix,
        origin=_origin(report),
        charts=section_charts(report, prefix),
        checks=figures.ordered_checks(report["checks"]),
    )
    return view


def render_html(
    reports: Sequence[dict[str, Any]],
    *,
    title: str | None = None,
    suite: dict[str, Any] | None = None,
) -> str:
    """One page: an overview when there are several reports, then a section per report;
    with a `suite` (gaplab.suite.report), its merged scorecard first."""
    sections = [html_section(r, i + 1) for i, r in enumerate(reports)]
    if title is None:
        first = reports[0]["scenario"] if reports else {"title": "", "name": ""}
        title = (
            f"gaplab: {first['title'] or first['name']}"
            if len(reports) == 1
            else f"gaplab: {len(reports)} scenarios"
        )
    template = html_environment().get_template("report.html.j2")
    return template.render(title=title, sections=sections, outcomes=OUTCOMES, suite=suite)


def write_html(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html([report]), encoding="utf-8")
