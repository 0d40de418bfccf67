"""Headless console output: a live progress line while the run goes, then the scorecard.

On a terminal the progress line redraws in place (rich.Live, 4 Hz); elsewhere (CI logs) a
plain line is printed at each phase edge and every few seconds, so logs stay readable.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from gaplab.checks.decide import STOPPED_HOW
from gaplab.engine.events import OUTCOMES
from gaplab.metrics.snapshot import Snapshot
from gaplab.report.model import verdict_headline

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "not_run": "dim"}
_VERDICT_LABEL = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "not_run": "not run"}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.0f}ms"


def timeline_position(snapshot: Snapshot) -> float:
    """Seconds into the scenario's timeline (start-up time of the parts not counted)."""
    done = sum(p.duration for p in snapshot.phases if p.ended is not None)
    running = snapshot.phase_elapsed if snapshot.status == "running" else 0.0
    return min(done + running, snapshot.duration)


def progress_line(snapshot: Snapshot) -> str:
    totals = snapshot.totals
    phase = snapshot.phase or snapshot.status
    index = (snapshot.phase_index or 0) + 1
    faults = "; ".join(snapshot.active_faults) or "no faults"
    position = timeline_position(snapshot)
    return (
        f"[{position:5.1f}s/{snapshot.duration:.0f}s] phase {index}/{len(snapshot.phases)} "
        f"{phase} ({faults}) | {snapshot.requests_per_second:5.1f} req/s | "
        f"ok {totals['ok']} degraded {totals['degraded']} refused {totals['refused']} "
        f"error {totals['error']} unsafe {totals['unsafe']} | p95 {_ms(snapshot.latency.p95)} | "
        f"provider {snapshot.provider_calls_per_second:.1f} calls/s"
    )


def progress_renderable(snapshot: Snapshot) -> Text:
    return Text(progress_line(snapshot), no_wrap=True, overflow="ellipsis")


def scorecard_renderable(report: dict[str, Any]) -> Group:
    verdict = report["verdict"]
    table = Table(
        title=f"gaplab scorecard: {report['scenario']['title']}",
        title_justify="left",
        expand=False,
        show_lines=False,
    )
    table.add_column("check")
    table.add_column("verdict")
    table.add_column("evidence")
    for check in report["checks"]:
        name = check["id"] + (" ★" if check["critical"] else "")
        style = _VERDICT_STYLE[check["verdict"]]
        label = _VERDICT_LABEL[check["verdict"]] + (" ~" if check.get("borderline") else "")
        table.add_row(name, Text(label, style=style), Text(check["summary"]))
    phases = Table(title="phases", title_justify="left")
    for column in (
        "phase",
        "faults",
        "ok",
        "degraded",
        "refused",
        "error",
        "unsafe",
        "p95",
        "upstream",
        "calls/request",
    ):
        phases.add_column(column)
    for phase in report["phases"]:
        outcomes = phase["outcomes"]
        amp = phase["amplification"]
        phases.add_row(
            phase["name"],
            Text("; ".join(_fault_cell(phase)) or "-"),
            *(str(outcomes[o]) for o in OUTCOMES),
            _ms(phase["latency"]["p95_s"]),
            str(phase["provider_calls"]),
            "-" if amp is None else f"{amp:.2f}",
        )
    headline = Text(
        verdict_headline(report), style="bold green" if verdict["ready"] else "bold red"
    )
    lines: list[Any] = [phases, table, headline]
    if verdict.get("borderline"):
        lines.append(
            Text(
                "~ borderline: within 15 % of its limit, a re-run may decide otherwise: "
                + ", ".join(verdict["borderline"]),
                style="yellow",
            )
        )
    if report["partial"]:
        how = STOPPED_HOW.get(report["status"], report["status"])
        lines.append(Text(f"partial report: the run {how}", style="yellow"))
    return Group(*lines)


def _fault_cell(phase: dict[str, Any]) -> list[str]:
    """Each fault of a phase with what it hit: `provider: error 503 (hit 412 calls)`."""
    hits = {c["fault"]: c for c in phase.get("coverage", [])}
    cells = []
    for fault in phase["faults"]:
        coverage = hits.get(fault)
        if coverage is None or coverage["hits"] is None:
            cells.append(fault)
            continue
        noun = "calls" if coverage["source"] == "provider" else "connections"
        cells.append(f"{fault} (hit {coverage['hits']} {noun})")
    return cells


def print_scorecard(console: Console, report: dict[str, Any]) -> None:
    console.print(scorecard_renderable(report))
