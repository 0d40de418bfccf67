"""The headless front end of `lab run`: run the engine, show progress, write the reports,
and turn the outcome into an exit code.

SIGINT and SIGTERM cancel the run task; the engine then stops every process it started and
this module still writes the partial report before exiting with 130.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from gaplab import runtime
from gaplab.engine.events import Event, LoadWorkerLost, PhaseStarted
from gaplab.engine.run import LabRun, RunResult
from gaplab.exit_codes import ExitCode, exit_code_for
from gaplab.report.console import lab_line, print_scorecard, progress_line, progress_renderable
from gaplab.report.masking import Masker
from gaplab.report.model import build_report
from gaplab.report.writers import write_json, write_report_files

PLAIN_EVERY = 5.0  # seconds between plain progress lines in CI logs


def report_for(run: LabRun, result: RunResult) -> dict[str, Any]:
    return build_report(
        run_id=result.run_id,
        status=result.status,
        scenario=run.scenario.model_dump(mode="json"),
        target=run.options.target_label,
        seed=run.seed,
        scorecard=result.scorecard,
        snapshot=run.snapshot(),
        error=str(result.error) if result.error else None,
        coverage=result.record.coverage,
        masker=Masker.for_record(result.record),
        record=result.record,
        target_file=run.options.target,
    )


@dataclass(frozen=True)
class Finished:
    """A run's report, where it was written, and the exit code: what every front end shows."""

    report: dict[str, Any]
    exit_code: ExitCode
    report_path: Path
    problem: str | None = None  # a report file that could not be written


def finish_run(
    run: LabRun,
    result: RunResult,
    *,
    json_path: Path | None,
    junit_path: Path | None,
    markdown_path: Path | None = None,
    html_path: Path | None = None,
) -> Finished:
    """Write `run_dir/report.json` always, the other report files asked for, and pick the
    exit code: failed -> 3, interrupted -> 130, else ready -> 0, not ready -> 1. A report
    that cannot be written is a lab error (3), unless the run was interrupted (130); the
    report is still returned, so the scorecard is not lost."""
    report = report_for(run, result)
    report_path = result.run_dir / "report.json"
    code = exit_code_for(result.status, result.scorecard.ready)
    try:
        write_json(report, report_path, private=True)
        write_report_files(
            report,
            json_path=json_path,
            junit_path=junit_path,
            markdown_path=markdown_path,
            html_path=html_path,
        )
    except OSError as exc:
        failed = code if code is ExitCode.INTERRUPTED else ExitCode.LAB_ERROR
        return Finished(report, failed, report_path, f"writing a report: {exc}")
    return Finished(report, code, report_path)


async def _progress(run: LabRun, console: Console) -> None:
    if console.is_terminal:
        with Live(
            progress_renderable(run.snapshot()),
            console=console,
            refresh_per_second=4,
            transient=True,
        ) as live:
            while True:
                await asyncio.sleep(0.25)
                live.update(progress_renderable(run.snapshot()))
    else:
        while True:
            await asyncio.sleep(PLAIN_EVERY)
            console.print(progress_line(run.snapshot()), markup=False, highlight=False)


async def execute(run: LabRun, console: Console) -> RunResult:
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    interrupted = 0

    def on_signal(name: str) -> None:
        nonlocal interrupted
        interrupted += 1
        if interrupted == 1:
            console.print(
                f"\n{name}: stopping the lab's processes and writing the partial report...",
                style="yellow",
            )
            run_task.cancel()
        else:
            console.print("still stopping; the lab's processes are being shut down", style="yellow")

    def on_phase(event: Event) -> None:
        if isinstance(event, PhaseStarted) and not console.is_terminal:
            faults = "; ".join(event.faults) or "no faults"
            console.print(
                f"phase {event.index + 1} {event.phase} ({event.duration:g}s): {faults}",
                markup=False,
                highlight=False,
            )
        elif isinstance(event, LoadWorkerLost):  # --load locust: said when it happens
            style = "yellow" if event.allowed else "bold red"
            console.print(event.describe(), style=style, markup=False, highlight=False)

    run.bus.subscribe(on_phase)
    run_task = asyncio.create_task(run.execute())
    progress = asyncio.create_task(_progress(run, console))
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig.name)
            installed.append(sig)
    try:
        # The run task handles its own cancellation and returns a partial result.
        return await run_task
    finally:
        progress.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await progress
        for sig in installed:
            loop.remove_signal_handler(sig)


def run_headless(
    run: LabRun,
    *,
    json_path: Path | None,
    junit_path: Path | None,
    markdown_path: Path | None = None,
    html_path: Path | None = None,
    console: Console | None = None,
) -> ExitCode:
    if console is None:
        console = Console()
        if not console.is_terminal:  # CI logs: wide enough for the scorecard, no wrapping
            console = Console(width=max(console.width, 140), soft_wrap=True)
    console.print(
        f"gaplab: scenario [bold]{run.scenario.name}[/] against "
        f"[bold]{run.options.target_label}[/] (seed {run.seed}, "
        f"{run.scenario.duration:g}s) -> {run.run_dir}"
    )
    runtime.freeze_startup_objects()
    # The standard loop, not uvloop: the load generator's aiohttp client, the busiest part
    # of a run, measured 10-25 % slower on uvloop (see gaplab/runtime.py).
    result = asyncio.run(execute(run, console))
    finished = finish_run(
        run,
        result,
        json_path=json_path,
        junit_path=junit_path,
        markdown_path=markdown_path,
        html_path=html_path,
    )
    if finished.problem is not None:  # the run happened: show its scorecard, then say why
        print_scorecard(console, finished.report)
        console.print(f"lab error: {finished.problem}", style="bold red", markup=False)
        return finished.exit_code
    if result.status == "failed":
        assert result.error is not None
        console.print(f"lab error: {result.error}", style="bold red", markup=False, highlight=False)
        lab = lab_line(finished.report)
        if lab is not None:
            console.print(lab, markup=False, highlight=False)
        if result.target_log is not None:
            console.print(f"target log: {result.target_log}", markup=False)
        return finished.exit_code
    print_scorecard(console, finished.report)
    console.print(f"journal: {result.run_dir / 'events.jsonl'}", markup=False, highlight=False)
    return finished.exit_code
