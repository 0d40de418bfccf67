"""`lab matrix`: prove that each defence of `demo:hardened` is what its checks measure.

Runs the hardened demo and, for each defence, `demo:hardened?without=<defence>` over the
exercises the ownership table (gaplab.demo.ownership) names for it, `--jobs` runs at a
time, then prints which checks each removal flipped. Exit codes: 0 every removal flips
exactly the checks the table says it owns, 1 otherwise (the unexpected and missing flips
are named), 2 bad input, 3 a run that did not complete or an internal error, 130
interrupted (every run stopped first). Everything goes in `<runs-dir>/matrix-<time>/`: the
scenario copies, each run's folder, each run's console output (`logs/`) and `matrix.json`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
import time
from pathlib import Path

import click
from rich.console import Console

from gaplab.demo.ownership import EXERCISES
from gaplab.exit_codes import ExitCode
from gaplab.matrix.outcome import Played, judge
from gaplab.matrix.plan import Job, load_ownership, pick_defences, plan_jobs, write_scenario
from gaplab.matrix.render import print_matrix, write_markdown
from gaplab.matrix.runner import Interrupted, RunDone, RunJob, play


def default_jobs() -> int:
    """Two runs per core: a run of the bundled scenarios keeps about a fifth of a core
    busy (lab, provider and demo together), and the timing checks need headroom."""
    return 2 * (os.cpu_count() or 1)


def _matrix_dir(runs_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for suffix in range(1, 1000):
        folder = runs_dir / (f"matrix-{stamp}" if suffix == 1 else f"matrix-{stamp}-{suffix}")
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"no free matrix folder name in {runs_dir}")


@click.command("matrix")
@click.option(
    "--only",
    multiple=True,
    metavar="DEFENCE[,DEFENCE]",
    help="play only these defences (repeatable or comma-separated)",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=default_jobs,
    show_default="2 per CPU core",
    help="runs at a time",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0.05, max=1.0),
    default=1.0,
    show_default=True,
    help="shorten every phase to this fraction (never below what each exercise needs)",
)
@click.option(
    "--runs-dir",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="the matrix's folder (matrix-<time>) is created here",
)
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="write the matrix as a Markdown table",
)
@click.option(
    "--ownership",
    "ownership_path",
    type=click.Path(path_type=Path, dir_okay=False),
    hidden=True,  # for tests: a table file standing in for gaplab.demo.ownership
)
def matrix_command(
    only: tuple[str, ...],
    jobs: int,
    scale: float,
    runs_dir: Path,
    markdown_path: Path | None,
    ownership_path: Path | None,
) -> None:
    """Run demo:hardened without each of its defences; check each flips exactly its checks."""
    from gaplab.output_paths import check_output_file, check_runs_dir

    ownership = load_ownership(ownership_path)
    defences = pick_defences(ownership, only)
    check_runs_dir(runs_dir)
    if markdown_path is not None:
        check_output_file(markdown_path, "--markdown")
    console = Console()
    if not console.is_terminal:  # CI logs: wide enough for the table, no wrapping
        console = Console(width=max(console.width, 140), soft_wrap=True)
    folder = _matrix_dir(runs_dir)
    planned = plan_jobs(ownership, defences)
    by_key: dict[str, Job] = {}
    run_jobs = []
    for job in planned:
        exercise = EXERCISES[job.exercise]
        copy = write_scenario(exercise, job.name, scale, folder / "scenarios")
        by_key[job.name] = job
        run_jobs.append(RunJob(job.name, copy, job.target(exercise)))
    console.print(
        f"gaplab matrix: {len(defences)} defences, {len(planned)} runs, {jobs} at a time, "
        f"scale {scale:g} -> {folder}"
    )
    started = time.monotonic()
    finished = 0

    def on_done(done: RunDone) -> None:
        nonlocal finished
        finished += 1
        played = done.played
        verdicts = " ".join(f"{c}={v.verdict}" for c, v in played.checks.items())
        if played.error:
            verdicts += f" {played.error}"
        console.print(
            f"[{finished}/{len(planned)}] {done.key}: {played.status}, exit {done.exit_code}, "
            f"{done.seconds:.0f}s: {verdicts.strip() or '-'}",
            markup=False,
            highlight=False,
        )

    def on_signal(name: str) -> None:
        console.print(f"\n{name}: stopping every run...", style="yellow")

    try:
        done = asyncio.run(
            play(run_jobs, folder, at_once=jobs, on_done=on_done, on_signal=on_signal)
        )
    except Interrupted:
        console.print(f"interrupted: every run was stopped; their folders are in {folder}")
        sys.exit(ExitCode.INTERRUPTED)
    seconds = time.monotonic() - started
    baselines: dict[str, Played] = {}
    removals: dict[tuple[str, str], Played] = {}
    for key, result in done.items():
        job = by_key[key]
        if job.defence is None:
            baselines[job.exercise] = result.played
        else:
            removals[(job.defence, job.exercise)] = result.played
    matrix = judge(ownership, defences, baselines, removals)
    print_matrix(console, matrix)
    command = shlex.join(["lab", "matrix", *sys.argv[2:]]) if len(sys.argv) > 1 else "lab matrix"
    document = {
        "command": command,
        "seconds": round(seconds, 1),
        "jobs": jobs,
        "scale": scale,
        "defences": defences,
        **matrix.to_json(),
        "runs": [
            {
                "name": key,
                "exercise": by_key[key].exercise,
                "defence": by_key[key].defence,
                "target": next(j.target for j in run_jobs if j.key == key),
                "run_dir": result.played.run_dir,
                "status": result.played.status,
                "exit_code": result.exit_code,
                "seconds": round(result.seconds, 1),
            }
            for key, result in done.items()
        ],
    }
    (folder / "matrix.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if markdown_path is not None:
        write_markdown(matrix, markdown_path, command=command)
    console.print(
        f"{len(planned)} runs in {seconds:.0f}s ({jobs} at a time); {folder / 'matrix.json'}"
    )
    sys.exit(matrix.exit_code)
