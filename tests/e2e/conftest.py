"""End-to-end helpers: short scenarios (phases of a few seconds) run for real, in process:
real mock provider, real demo target subprocess, real virtual users on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaplab.checks.base import Verdict
from gaplab.engine.run import LabRun, RunOptions, RunResult
from gaplab.scenario.library import load_scenario
from gaplab.target.resolve import resolve_target

SHORT = """\
version: 1
name: {name}
title: {name} (short)
seed: 11
sla: 3s
load: {{users: 16, think: 100ms, patience: 8s}}
phases:
  - {{name: baseline, for: 4s}}
  - name: fault
    for: 6s
    faults: [{fault}]
  - {{name: recovery, for: 7s}}
checks: {checks}
"""


def short_scenario(tmp_path: Path, name: str, fault: str, checks: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(SHORT.format(name=name, fault=fault, checks=checks))
    return path


async def run_lab(path: Path, target: str, runs_dir: Path) -> tuple[LabRun, RunResult]:
    scenario, _ = load_scenario(str(path))
    options = RunOptions(
        scenario=scenario,
        target=resolve_target(target, interface=scenario.interface),
        target_label=target,
        runs_dir=runs_dir,
    )
    run = LabRun(options)
    return run, await run.execute()


def verdicts(result: RunResult) -> dict[str, Verdict]:
    return {r.id: r.verdict for r in result.scorecard.results}


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


# -- lanes for the heavy files under pytest-xdist -------------------------------------------
# These files play many lab runs at once (a scenario against naive, hardened and every
# owning defence removed: up to 14 processes per test) or load the machine on purpose
# (10,000 users). Run three of them side by side on a 2-core machine and every run starves,
# so each file keeps to one of two lanes (xdist groups, `--dist loadgroup`): at most two heavy
# tests at a time, while the light tests fill the third worker. The lanes are balanced by
# their measured wall time.
HEAVY_LANES: dict[str, str] = {
    "test_resilience_scenarios.py": "heavy-a",
    "test_bundled_margins.py": "heavy-a",
    "test_defence_matrix.py": "heavy-a",
    "test_cost_runs.py": "heavy-b",
    "test_security_runs.py": "heavy-b",
    "test_lab_health.py": "heavy-b",
    "test_readiness_runs.py": "heavy-a",
    "test_suite_run.py": "heavy-a",
    "test_locust_load.py": "heavy-b",
    "test_locust_lifecycle.py": "heavy-a",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        lane = HEAVY_LANES.get(item.path.name)
        if lane is not None and item.path.parent.name == "e2e":
            item.add_marker(pytest.mark.xdist_group(lane))
