"""The headless front end of a suite (`lab run readiness`): progress for the whole suite on
the console (which scenarios run, how many are done and left, the time left), one line per
finished scenario, then the merged scorecard with the evidence kind in its own column, the
report files, and the exit code.

Exit codes as for a run: 0 ready, 1 not ready, 130 interrupted (Ctrl-C or SIGTERM: the
running scenarios get SIGINT, stop their processes and write partial reports; the suite
writes a partial combined report, INCOMPLETE), 3 when a scenario hit a lab error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from gaplab.checks.attested.answers import attested_results
from gaplab.checks.base import CheckResult
from gaplab.exit_codes import ExitCode, exit_code_for
from gaplab.report.figures import duration
from gaplab.suite.loading import LoadedSuite
from gaplab.suite.merge import result_from_report
from gaplab.suite.report import build_suite_report, write_suite_files
from gaplab.suite.runner import ScenarioOutcome, SuiteEvent, SuiteProgress, SuiteRun

PLAIN_EVERY = 10.0  # seconds between progress lines in CI logs
_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "not_run": "dim"}
_LABEL = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "not_run": "not run"}


def progress_text(progress: SuiteProgress) -> str:
    running = ", ".join(f"{n} {el:.0f}/{exp:.0f}s" for n, el, exp in progress.running) or "-"
    done = len(progress.done)
    return (
        f"suite: {done}/{progress.total} done, running: {running}; {progress.left} to start; "
        f"{duration(progress.elapsed_s)} elapsed, about {duration(progress.eta_s)} left"
    )


def _finished_line(run: SuiteRun, event: SuiteEvent) -> str:
    report_path = run.run_dir / f"{event.scenario}.report.json"
    headline = "no report"
    with contextlib.suppress(OSError, ValueError, KeyError):
        headline = json.loads(report_path.read_text(encoding="utf-8"))["verdict"]["headline"]
    return f"  done {event.scenario} (exit {event.exit_code}, {event.t:.0f}s): {headline}"


async def execute_suite(run: SuiteRun, console: Console) -> tuple[list[ScenarioOutcome], bool]:
    """The outcomes, and whether the suite was interrupted."""
    loop = asyncio.get_running_loop()
    stops = 0

    def on_signal(name: str) -> None:
        nonlocal stops
        stops += 1
        if stops == 1:
            console.print(
                f"\n{name}: stopping the running scenarios and writing the partial report...",
                style="yellow",
            )
            task.cancel()
        else:
            console.print("still stopping; the scenarios are shutting down", style="yellow")

    def on_event(event: SuiteEvent) -> None:
        if event.kind == "started":
            console.print(f"  start {event.scenario}", markup=False, highlight=False)
        else:
            console.print(_finished_line(run, event), markup=False, highlight=False)

    async def progress() -> None:
        while True:
            await asyncio.sleep(PLAIN_EVERY)
            console.print(progress_text(run.snapshot()), markup=False, highlight=False)

    run.subscribe(on_event)
    task = asyncio.create_task(run.execute())
    ticker = asyncio.create_task(progress())
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig.name)
            installed.append(sig)
    try:
        outcomes = await task  # execute() handles its cancellation and returns what ran
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        for sig in installed:
            loop.remove_signal_handler(sig)
    return outcomes, stops > 0


def run_suite_headless(
    loaded: LoadedSuite,
    runs_dir: Path,
    *,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    markdown_path: Path | None = None,
    html_path: Path | None = None,
    time_scale: float | None = None,
    concurrency: int | None = None,
    console: Console | None = None,
) -> ExitCode:
    console = console or Console(width=160, soft_wrap=True)
    run = SuiteRun(loaded, runs_dir, time_scale=time_scale, concurrency=concurrency)
    attestation = str(loaded.attestation_path) if loaded.attestation_path else "none"
    console.print(
        f"gaplab: suite [bold]{run.suite.suite}[/]: {len(run.order)} scenarios, "
        f"{run.concurrency} at a time, time scale {run.time_scale:g}, attestation "
        f"{attestation} -> {run.run_dir}",
        highlight=False,
    )
    outcomes, interrupted = asyncio.run(execute_suite(run, console))
    finished = finish_suite(
        run, outcomes, interrupted=interrupted, json_path=json_path, junit_path=junit_path,
        markdown_path=markdown_path, html_path=html_path,
    )  # fmt: skip
    console.print(suite_scorecard_renderable(finished.document))
    console.print(f"report: {finished.report_path}", markup=False, highlight=False)
    return finished.exit_code


@dataclass(frozen=True)
class SuiteFinished:
    document: dict[str, Any]  # the combined report (gaplab.suite.report)
    report_path: Path  # the suite folder's report.json
    exit_code: ExitCode


def finish_suite(
    run: SuiteRun,
    outcomes: list[ScenarioOutcome],
    *,
    interrupted: bool,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    markdown_path: Path | None = None,
    html_path: Path | None = None,
) -> SuiteFinished:
    """The combined report built and written, and the exit code: every front end of a
    suite (this console one, the TUI) ends through here, so they cannot disagree."""
    document = build_suite_report(run, outcomes, interrupted=interrupted)
    attestation = str(run.loaded.attestation_path) if run.loaded.attestation_path else "none"
    attested = attested_results(run.loaded.attestation, source=attestation)
    report_path = write_suite_files(
        document, attested, run_dir=run.run_dir, json_path=json_path, junit_path=junit_path,
        markdown_path=markdown_path, html_path=html_path,
    )  # fmt: skip
    return SuiteFinished(document, report_path, suite_exit_code(document))


def suite_exit_code(document: dict[str, Any]) -> ExitCode:
    """From a combined report: 130 interrupted, else 3 when a scenario hit a lab error,
    else 0 ready / 1 not (`lab run SUITE`, its TUI, and `lab report SUITE_FOLDER`)."""
    if document["status"] == "interrupted":
        return ExitCode.INTERRUPTED
    if any(s["exit_code"] == ExitCode.LAB_ERROR for s in document["scenarios"]):
        return ExitCode.LAB_ERROR
    return exit_code_for("completed", document["verdict"]["ready"])


def attested_of(document: dict[str, Any]) -> list[CheckResult]:
    """The attested items of a combined report back as results (for its JUnit file)."""
    return [
        result_from_report({**item, "evidence": item["scenarios"][0]["evidence"]})
        for item in document["items"]
        if item["kind"] == "attested" and item["scenarios"]
    ]


def write_past_suite_files(
    folder: Path,
    document: dict[str, Any],
    *,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    markdown_path: Path | None = None,
    html_path: Path | None = None,
) -> None:
    """`lab report SUITE_FOLDER --json ...`: the files asked for, from its combined report
    (the folder's own report.json is left as `lab run` wrote it)."""
    if any((json_path, junit_path, markdown_path, html_path)):
        write_suite_files(
            document, attested_of(document), run_dir=folder, json_path=json_path,
            junit_path=junit_path, markdown_path=markdown_path, html_path=html_path,
        )  # fmt: skip


def suite_scorecard_renderable(document: dict[str, Any]) -> Group:
    """Per area the measured and attested scores; per item its verdict, evidence kind,
    the scenario that decided it and its evidence; the headline last."""
    verdict = document["verdict"]
    items = Table(title=f"gaplab readiness: {document['title']}", title_justify="left")
    for column in ("item", "verdict", "kind", "scenario", "evidence"):
        items.add_column(column)
    for item in document["items"]:
        label = _LABEL[item["verdict"]] + (" ~" if item["borderline"] else "")
        items.add_row(
            item["id"] + (" ★" if item["critical"] else ""),
            Text(label, style=_STYLE[item["verdict"]]),
            item["kind"],
            item["decided_by"],
            Text(item["summary"]),
        )
    areas = Table(title="areas", title_justify="left")
    for column in ("area", "measured and probed", "attested"):
        areas.add_column(column)
    attested = verdict["attested_areas"] or {}
    for area in dict.fromkeys([*verdict["areas"], *attested]):
        areas.add_row(area, _pct(verdict["areas"].get(area)), _pct(attested.get(area)))
    areas.add_row("overall", _pct(verdict["score"]), _pct(verdict["attested_score"]))
    lines: list[Any] = [items, areas]
    lines.append(Text(f"{document['distinct_items']} distinct items", style="dim"))
    style = "bold green" if verdict["ready"] else "bold red"
    lines.append(Text(verdict["headline"], style=style))
    if verdict["borderline"]:
        lines.append(Text("~ borderline: " + ", ".join(verdict["borderline"]), style="yellow"))
    if document["partial"]:
        lines.append(Text("partial report: the suite did not finish", style="yellow"))
    return Group(*lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"
