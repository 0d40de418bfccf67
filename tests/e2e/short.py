"""Short versions of the bundled scenarios for end-to-end tests: the same inputs, faults and
checks, with phases scaled down, so a test plays a real scenario in seconds."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import yaml

from gaplab.checks.base import Verdict
from gaplab.checks.scoring import DEFAULT_FAIL_UNDER
from gaplab.engine.run import RunResult
from gaplab.errors import LabError
from gaplab.report.rebuild import rebuild_run
from gaplab.resources import bundled_dir

LAB = [sys.executable, "-m", "gaplab"]


def short_copy(name: str, tmp_path: Path, scale: float, minimum: float = 2.0) -> Path:
    """The bundled scenario `name` with every phase `scale` times as long (at least
    `minimum` seconds), written next to the test."""
    data = yaml.safe_load((bundled_dir("scenarios") / f"{name}.yaml").read_text())
    for phase in data["phases"]:
        seconds = float(str(phase["for"]).removesuffix("s"))
        phase["for"] = f"{max(minimum, round(seconds * scale, 1))}s"
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


async def run_targets(
    path: Path, targets: list[str], runs_dir: Path, *extra: str
) -> dict[str, RunResult]:
    """Play the scenario against every target at once, each as its own `lab run` process
    (`extra`: more of its arguments, e.g. `--load locust --locust-workers 2`),
    as a user would run them side by side: every run has an event loop of its own, so one
    run's load cannot make another's lab look overloaded (in one process, seven runs share
    one loop and so at most one core). Each result is decided again from its run folder,
    the way `lab report` does (a test elsewhere holds that it gives the live verdicts)."""
    outcomes = await asyncio.gather(
        *(_play(path, target, runs_dir / f"target-{i}", extra) for i, target in enumerate(targets))
    )
    # A run the lab itself could not finish (overloaded, a target that would not start) has
    # no verdicts to compare: say why here, not as a puzzling `not_run` further down.
    broken = [f"{t}: {r.error}" for t, r in zip(targets, outcomes, strict=True) if r.error]
    assert not broken, "the lab could not finish: " + "; ".join(broken)
    return dict(zip(targets, outcomes, strict=True))


async def _play(path: Path, target: str, runs_dir: Path, extra: tuple[str, ...] = ()) -> RunResult:
    log = _prepare(runs_dir)
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *LAB,
            "run",
            str(path),
            "--target",
            target,
            "--runs-dir",
            str(runs_dir),
            *extra,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            code = await process.wait()
        finally:
            if process.returncode is None:  # the test was cancelled: stop the run with it
                process.send_signal(signal.SIGINT)
                await process.wait()
    return _result(runs_dir, target, code, log)


def _prepare(runs_dir: Path) -> Path:
    runs_dir.mkdir(parents=True)
    return runs_dir.with_suffix(".log")


def _result(runs_dir: Path, target: str, code: int, log: Path) -> RunResult:
    folders = [d for d in runs_dir.iterdir() if d.is_dir()]
    assert len(folders) == 1, f"lab run {target} exited {code}: {log.read_text()[-2000:]}"
    run = rebuild_run(folders[0], fail_under=DEFAULT_FAIL_UNDER)
    assert run.record.started is not None
    reason = run.record.finished.reason if run.record.finished else "the lab process died"
    error = LabError(reason) if run.status != "completed" and reason else None
    if code not in (0, 1) and error is None:
        error = LabError(f"lab run exited {code}: {log.read_text()[-2000:]}")
    return RunResult(
        run_id=run.record.started.run_id,
        run_dir=folders[0],
        status=run.status,
        scorecard=run.scorecard,
        record=run.record,
        error=error,
    )


def verdicts(result: RunResult) -> dict[str, Verdict]:
    return {r.id: r.verdict for r in result.scorecard.results}


def explain(result: RunResult) -> list[tuple[str, str, str]]:
    return [(r.id, r.verdict.value, r.summary) for r in result.scorecard.results]
