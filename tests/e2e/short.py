"""Short versions of the bundled scenarios for end-to-end tests: the same inputs, faults and
checks, with phases scaled down, so a test plays a real scenario in seconds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml

from gaplab.checks.base import Verdict
from gaplab.engine.run import LabRun, RunOptions, RunResult
from gaplab.resources import bundled_dir
from gaplab.scenario.library import load_scenario
from gaplab.target.resolve import resolve_target


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
    path: Path, targets: list[str], runs_dir: Path, **more: Any
) -> dict[str, RunResult]:
    """Play the scenario against every target at once (independent runs, own ports);
    `more`: more `RunOptions` (`load_engine="locust"`, `locust_workers=2`)."""
    scenario, _ = load_scenario(str(path))

    async def one(target: str) -> RunResult:
        options = RunOptions(
            scenario=scenario,
            target=resolve_target(target, interface=scenario.interface),
            target_label=target,
            runs_dir=runs_dir,
            **more,
        )
        return await LabRun(options).execute()

    results = await asyncio.gather(*(one(t) for t in targets))
    return dict(zip(targets, results, strict=True))


def verdicts(result: RunResult) -> dict[str, Verdict]:
    return {r.id: r.verdict for r in result.scorecard.results}


def explain(result: RunResult) -> list[tuple[str, str, str]]:
    return [(r.id, r.verdict.value, r.summary) for r in result.scorecard.results]
