"""The gate never lies, end to end: a fault that hits nothing decides nothing (and the run
says so), a scoped fault is judged on the calls it matched, and a run whose lab process
was killed rebuilds as a lab error, never READY."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gaplab.checks.base import Verdict

from .conftest import short_scenario
from .short import explain, run_targets, verdicts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

LAB = [sys.executable, "-m", "gaplab"]
CHECKS = "[resilience.fallback, resilience.circuit_breaker, resilience.no_retry_storm]"


async def test_a_fault_scoped_to_a_model_nobody_asks_for_decides_nothing(tmp_path: Path) -> None:
    path = short_scenario(
        tmp_path, "scoped", "provider: {error: 503, match: {model: primary}}", CHECKS
    )
    result = (await run_targets(path, ["demo:hardened"], tmp_path / "runs"))["demo:hardened"]
    card = result.scorecard
    assert not card.ready and card.missed_faults, explain(result)
    assert set(verdicts(result).values()) == {Verdict.NOT_RUN}, explain(result)
    fallback = next(r for r in card.results if r.id == "resilience.fallback")
    assert "hit 0 of" in fallback.summary and "match model 'primary'" in fallback.summary
    assert "gpt-4o-mini-2024-07-18 ×" in fallback.summary  # what the calls asked for
    coverage = [c for c in result.record.coverage if c.phase == "fault"]
    assert [(c.hits, c.matched) for c in coverage] == [(0, 0)]


async def test_a_scoped_outage_is_judged_on_the_calls_it_hit(tmp_path: Path) -> None:
    # The naive demo asks for the alias gpt-4o-mini: every one of its calls is in scope.
    path = short_scenario(
        tmp_path, "scoped", "provider: {error: 503, match: {model: gpt-4o-mini}}", CHECKS
    )
    result = (await run_targets(path, ["demo:naive"], tmp_path / "runs"))["demo:naive"]
    got = verdicts(result)
    assert got["resilience.circuit_breaker"] is Verdict.FAIL, explain(result)
    assert got["resilience.fallback"] is Verdict.FAIL, explain(result)
    coverage = next(c for c in result.record.coverage if c.phase == "fault")
    assert coverage.hits and coverage.hits == coverage.matched
    assert "[match model 'gpt-4o-mini']" in coverage.fault


def test_lab_validate_warns_about_a_model_the_profile_does_not_know(tmp_path: Path) -> None:
    path = short_scenario(
        tmp_path, "scoped", "provider: {error: 503, match: {model: primary}}", CHECKS
    )
    done = subprocess.run([*LAB, "validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (
        f"warning: {path}:11:45: phases[1].faults[0].provider.match.model:" in done.stderr
        and "'primary' is neither a model" in done.stderr
    )


def test_a_killed_run_rebuilds_as_a_lab_error_never_ready(tmp_path: Path) -> None:
    path = short_scenario(tmp_path, "outage", "provider: {error: 503}", CHECKS)
    runs = tmp_path / "runs"
    process = subprocess.Popen(
        [*LAB, "run", str(path), "--target", "demo:hardened", "--runs-dir", str(runs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "phase 2 fault" in line:
            break
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    (run_dir,) = runs.iterdir()
    done = subprocess.run(
        [*LAB, "report", str(run_dir), "--json", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["status"] == "aborted" and document["verdict"]["ready"] is False
    assert "INCOMPLETE" in done.stdout and "READY  score" not in done.stdout
