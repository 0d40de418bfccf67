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
from gaplab.report.figures import usd
from gaplab.report.model import verdict_headline
from gaplab.report.workers import workers_line, workers_progress

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "not_run": "dim"}
_VERDICT_LABEL = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "not_run": "not run"}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.0f}ms"


def timeline_position(snapshot: Snapshot) -> float:
    """Seconds into the scenario's timeline (start-up time of the parts not counted)."""
    done = sum(p.duration for p in snapshot.phases if p.ended is not None)
    running = snapshot.phase_elapsed if snapshot.status == "running" else 0.0
    return min(done + running, snapshot.duration)


def _lab_progress(snapshot: Snapshot) -> str:
    """The lab's own figures over the last few seconds: lag, and slip and drops when open."""
    lab = snapshot.lab
    if lab is None:
        return ""
    text = f" | lab lag p99 {_ms(lab.window_lag_p99)}"
    if lab.load_model == "open":
        text += f" slip p99 {_ms(lab.window_slip_p99)} | dropped {snapshot.dropped}"
    return text


def _cost_progress(snapshot: Snapshot) -> str:
    """Dollars billed so far (the provider's count) and per AI request."""
    requests = sum(snapshot.totals.values())
    per_request = snapshot.cost_usd / requests if requests else None
    return f" | {usd(snapshot.cost_usd)} ({usd(per_request)}/req)"


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
        f"provider {snapshot.provider_calls_per_second:.1f} calls/s{_cost_progress(snapshot)}"
        f"{_lab_progress(snapshot)}{workers_progress(snapshot)}"
    )


def _report_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def lab_line(report: dict[str, Any]) -> str | None:
    """The lab's own health over the run, in one line (None when it was not measured)."""
    lab = report.get("lab")
    if not lab:
        return None
    lag = lab["loop_lag_ms"]
    text = (
        f"lab: event-loop lag p50 {_report_ms(lag['p50'])}, p99 {_report_ms(lag['p99'])} "
        f"(max {_report_ms(lag['max'])})"
    )
    if lab["load_model"] == "open":
        arrivals, slip = lab["arrivals"], lab["schedule_slip_ms"]
        text += (
            f"; arrivals {arrivals['planned']:,} planned, {arrivals['started']:,} started, "
            f"{arrivals['dropped']:,} dropped (max_in_flight), {arrivals['missed']:,} missed; "
            f"schedule slip p50 {_report_ms(slip['p50'])}, p99 {_report_ms(slip['p99'])}"
        )
    return text


def cost_line(report: dict[str, Any]) -> str | None:
    """What the run cost and what it would cost at scale, in one line (None: nothing was
    billed)."""
    cost = report.get("cost")
    if not cost:
        return None
    per, tokens, spend = cost["per_request"], cost["tokens"], cost["spend"]
    scaled = spend["at_volume"]
    text = (
        f"cost: {usd(cost['total_usd'])} for {per['requests']:,} requests "
        f"(mean {usd(per['mean_usd'])}, p95 {usd(per['p95_usd'])}, max {usd(per['max_usd'])}); "
        f"{tokens['in']:,} tokens in ({tokens['cached']:,} cached), {tokens['out']:,} out; "
        f"{usd(spend['usd_per_hour'])}/hour at this volume, {usd(scaled['usd_per_hour'])}/hour "
        f"and {usd(scaled['usd_per_month'])}/month at {scaled['volume']:g}×"
    )
    if cost.get("unjoined_calls"):
        # Calls no request could be tied to (no correlation header, no reference in the
        # prompt: a repeated question; or still in flight at the end) are billed but in no
        # request's cost: said here, or "mean $0.00" would look like a free run.
        calls = cost["unjoined_calls"]
        text += (
            f"; {calls:,} call{'s' if calls != 1 else ''} ({usd(cost['unjoined_usd'])}) tied "
            "to no request, in the total only"
        )
    if tokens.get("refused_in_max"):
        text += (
            f"; {tokens['refused_calls']:,} calls refused by the provider, not billed "
            f"({tokens['refused_in']:,} tokens counted in them, up to {tokens['refused_in_max']:,})"
        )
    monthly = spend.get("monthly")
    if monthly:
        text += (
            f"; {usd(monthly['usd_per_month'])}/month at {monthly['daily_requests']:,} "
            "requests a day"
        )
    return text


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
    table.add_column("kind")  # measured, probed or attested: never scored as one another
    table.add_column("evidence")
    for check in report["checks"]:
        name = check["id"] + (" ★" if check["critical"] else "")
        style = _VERDICT_STYLE[check["verdict"]]
        label = _VERDICT_LABEL[check["verdict"]] + (" ~" if check.get("borderline") else "")
        kind = check["evidence"]["kind"]
        table.add_row(name, Text(label, style=style), kind, Text(check["summary"]))
    phases = Table(title="phases", title_justify="left")
    open_load = (report.get("lab") or {}).get("load_model") == "open"
    columns = ["phase", "faults", *OUTCOMES, "p95", "upstream", "calls/request"]
    for column in [*columns, "dropped"] if open_load else columns:
        phases.add_column(column)
    for phase in report["phases"]:
        outcomes = phase["outcomes"]
        amp = phase["amplification"]
        cells = [
            phase["name"],
            Text("; ".join(_fault_cell(phase)) or "-"),
            *(str(outcomes[o]) for o in OUTCOMES),
            _ms(phase["latency"]["p95_s"]),
            str(phase["provider_calls"]),
            "-" if amp is None else f"{amp:.2f}",
        ]
        if open_load:
            cells.append(str(phase.get("dropped_arrivals", 0)))
        phases.add_row(*cells)
    headline = Text(
        verdict_headline(report), style="bold green" if verdict["ready"] else "bold red"
    )
    lines: list[Any] = [phases, table]
    cost = cost_line(report)
    if cost is not None:
        lines.append(Text(cost))
    lab = lab_line(report)
    if lab is not None:
        lines.append(Text(lab, style="dim"))
    workers = workers_line(report)
    if workers is not None:
        lost = bool(report["load_workers"]["lost"])
        lines.append(Text(workers, style="yellow" if lost else "dim"))
    lines.append(headline)
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
