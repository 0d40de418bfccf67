"""A report's check, phases and example requests as Rich renderables for the scorecard.

Every number goes through `gaplab.report.figures`, the same formatting the Markdown and
HTML reports use: units, rounding, `HTTP 500 ×183` lists, `n/a` instead of `None`. Tables
fold their text rather than push columns off screen, so the pane fits 80 columns.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gaplab.engine.events import OUTCOMES
from gaplab.report import figures

KIND_LABEL = {"measured": "measured by the lab", "declared": "declared by the target"}


def check_detail(check: dict[str, Any]) -> RenderableType:
    """Title, summary, why it matters, the evidence numbers and the example requests."""
    evidence = check["evidence"]
    parts: list[RenderableType] = [
        Text(check["title"], style="bold"),
        Text(
            f"{figures.VERDICT_LABEL.get(check['verdict'], check['verdict'])} · {check['id']}"
            + (" · critical" if check.get("critical") else ""),
            style="dim",
        ),
        Text(""),
        Text(check["summary"]),
        Text(""),
        Text(check["why"], style="italic"),
        Text(""),
    ]
    kind = KIND_LABEL.get(evidence["kind"], evidence["kind"])
    phase = f", phase {evidence['phase']}" if evidence.get("phase") else ""
    parts.append(Text(f"evidence ({kind}{phase})", style="bold"))
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in figures.numbers(evidence["numbers"]):
        table.add_row(label, value)
    if evidence.get("limit"):
        table.add_row("limit", str(evidence["limit"]))
    if evidence.get("margin") is not None or evidence.get("limit"):
        table.add_row("margin", figures.margin(evidence.get("margin")))
    parts.append(table)
    examples = check.get("example_requests") or []
    if examples:
        parts += [Text(""), Text("example requests (enter: open one)", style="bold")]
        parts.append(examples_table(examples))
    elif evidence.get("examples"):
        parts += [Text(""), Text("example requests: " + ", ".join(evidence["examples"]))]
    return Group(*parts)


def examples_table(examples: list[dict[str, Any]]) -> Text:
    """One example request per two lines (its id whole, then what happened): a table of
    five columns squeezed the id out of a 46-column pane."""
    text = Text()
    for index, example in enumerate(examples):
        if index:
            text.append("\n")
        got = (
            f"{example['outcome']} (HTTP {example['status']})"
            if example["status"]
            else f"{example['outcome']} (no answer)"
        )
        calls = example["calls_total"]
        retries = example["retries"]
        text.append(f" {example['request_id']}\n", style="bold")
        text.append(
            f"   {example['phase']} · {got} · {figures.duration(example['latency_s'])} · "
            f"{calls:,} provider call{'s' if calls != 1 else ''}, "
            f"{retries:,} retr{'ies' if retries != 1 else 'y'}"
        )
    return text


def phases_table(report: dict[str, Any]) -> Table:
    """One row per phase: its faults with what they hit, outcomes, p95, calls per request."""
    table = Table(expand=True, box=None, padding=(0, 1), header_style="bold")
    table.add_column("phase", no_wrap=True)
    table.add_column("faults", ratio=3, overflow="fold")
    table.add_column("answers", ratio=2, overflow="fold")
    table.add_column("p95", no_wrap=True, justify="right")
    table.add_column("calls/req", no_wrap=True, justify="right")
    for phase in report["phases"]:
        outcomes = phase["outcomes"]
        answers = " · ".join(f"{outcomes[o]:,} {o}" for o in OUTCOMES if outcomes.get(o))
        table.add_row(
            phase["name"],
            "; ".join(figures.fault_cells(phase)) or "-",
            answers or "none",
            figures.duration(phase["latency"]["p95_s"]),
            figures.ratio(phase["amplification"]),
        )
    return table


def manual_table(report: dict[str, Any]) -> Table | None:
    spans = report.get("manual_faults") or []
    if not spans:
        return None
    table = Table(expand=True, box=None, padding=(0, 1), header_style="bold")
    for name in ("by hand", "phase", "from", "to", "hit"):
        table.add_column(name, overflow="fold")
    for span in spans:
        table.add_row(
            span["fault"],
            span["phase"],
            figures.duration(span["start_s"]),
            figures.duration(span["end_s"]) if span["end_s"] is not None else "the end",
            "n/a" if span["hits"] is None else f"{span['hits']:,}",
        )
    return table
