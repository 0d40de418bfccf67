"""The Locust path's verdicts do not depend on when a lesson of the lab's unsafe detector
reaches the workers: with every lesson held back (the worst case of the race between a
provider call's lesson and the target's answer), the PII the model emitted is still found
in the answers, because the lab judges them again on arrival (gaplab.locust_load.lessons).
"""

from __future__ import annotations

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


async def test_a_lesson_that_never_reaches_the_worker_does_not_hide_a_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[Lesson] = []

    def hold_back(self: LocustLoad, lesson: Lesson) -> None:
        if self.lessons.message(lesson) is not None:  # numbered as sent, never sent
            held.append(lesson)

    monkeypatch.setattr(LocustLoad, "teach", hold_back)
    scenario, _ = load_scenario(str(short_copy("pii_output", tmp_path, 0.3)))
    run = LabRun(
        RunOptions(
            scenario=scenario,
            target=resolve_target("demo:naive", interface=scenario.interface),
            target_label="demo:naive",
            runs_dir=tmp_path / "runs",
            load_engine="locust",
        )
    )
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
