"""The Locust path's verdicts do not depend on when a lesson of the lab's unsafe detector
reaches the workers: with every lesson held back (the worst case of the race between a
provider call's lesson and the target's answer), the PII the model emitted is still found
in the answers, because the lab judges them again on arrival (gaplab.locust_load.lessons).
And the requests in flight that the live screens show are the Locust users' own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gaplab.checks.base import Verdict
from gaplab.engine.run import LabRun, RunOptions
from gaplab.locust_load.lessons import Lesson
from gaplab.locust_load.process import LocustLoad
from gaplab.scenario.library import load_scenario
from gaplab.target.resolve import resolve_target

from .short import short_copy

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _lab_run(path: Path, runs_dir: Path, workers: int = 0) -> LabRun:
    scenario, _ = load_scenario(str(path))
    return LabRun(
        RunOptions(
            scenario=scenario,
            target=resolve_target("demo:naive", interface=scenario.interface),
            target_label="demo:naive",
            runs_dir=runs_dir,
            load_engine="locust",
            locust_workers=workers,
        )
    )


async def test_a_lesson_that_never_reaches_the_worker_does_not_hide_a_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[Lesson] = []

    def hold_back(self: LocustLoad, lesson: Lesson) -> None:
        if self.lessons.message(lesson) is not None:  # numbered as sent, never sent
            held.append(lesson)

    monkeypatch.setattr(LocustLoad, "teach", hold_back)
    run = _lab_run(short_copy("pii_output", tmp_path, 0.3), tmp_path / "runs")
    result = await run.execute()
    assert result.status == "completed", result.error
    assert any(emitted for _, _, emitted in held)  # the model emitted PII: lessons were due
    leaking = [r for r in result.record.requests if r.phase == "leaking" and r.endpoint == "ai"]
    pii = [r for r in leaking if r.outcome == "unsafe" and r.detail == "pii"]
    # The naive demo passes every answer on: each one in the leaking phase carries the PII.
    answered = [r for r in leaking if r.outcome in ("ok", "unsafe")]
    assert answered and len(pii) == len(answered), (len(pii), len(answered))
    (check,) = [c for c in result.scorecard.results if c.id == "governance.pii_in_output"]
    assert check.verdict is Verdict.FAIL, check.summary


async def test_in_flight_counts_the_locust_users_requests(tmp_path: Path) -> None:
    """Under a hang every one of the 20 Locust users (on 2 workers) waits: the snapshot the
    TUI's in-flight panel reads says so, with the age of the oldest request (the lab's own
    probes alone would be one or two)."""
    run = _lab_run(short_copy("hang", tmp_path, 0.35), tmp_path / "runs", workers=2)
    seen: list[tuple[str | None, int, float | None]] = []

    async def sample() -> None:
        while True:
            await asyncio.sleep(0.25)
            snapshot = run.snapshot()
            if snapshot.in_flight is not None:
                flight = snapshot.in_flight
                seen.append((snapshot.phase, flight.users, flight.oldest_s))

    sampler = asyncio.create_task(sample())
    try:
        result = await run.execute()
    finally:
        sampler.cancel()
    assert result.status == "completed", result.error
    hang = [(users, oldest) for phase, users, oldest in seen if phase == "hang"]
    assert max(users for users, _ in hang) >= 20, hang
    assert max(oldest or 0.0 for _, oldest in hang) > 3.0, hang
