"""A target that refuses everything is never READY: it stops every attack, but it never
asks the model, so the attack phase's fault hits nothing (the experiment did not happen),
and a target that asks the model only for some questions still leaves the others without a
normal answer, which fails the security check."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gaplab.checks.base import Verdict
from gaplab.engine.run import LabRun, RunOptions
from gaplab.scenario.library import load_scenario
from gaplab.target.resolve import resolve_target

from .short import short_copy

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

REFUSER = Path(__file__).with_name("data") / "refuser.py"


async def test_refusing_everything_is_not_ready(tmp_path: Path) -> None:
    target = tmp_path / "refuser.yaml"
    target.write_text(
        "name: refuser\n"
        f"start: {{command: [{sys.executable!r}, {str(REFUSER)!r}, '{{port}}']}}\n"
        "request: {url: 'http://127.0.0.1:{port}/chat', json: {message: '{input}'}}\n"
    )
    scenario, _ = load_scenario(str(short_copy("injection", tmp_path, 0.35)))
    result = await LabRun(
        RunOptions(
            scenario=scenario,
            target=resolve_target(str(target)),
            target_label="refuser",
            runs_dir=tmp_path / "runs",
        )
    ).execute()
    (injection,) = result.scorecard.results
    assert not result.record.calls  # it never asked the model
    assert injection.verdict is Verdict.NOT_RUN, injection.summary
    assert "hit 0 of 0 calls" in injection.summary
    assert not result.scorecard.ready and result.scorecard.missed_faults


def test_questions_without_a_model_answer_fail_the_security_checks() -> None:
    from gaplab.checks.base import CheckContext
    from gaplab.checks.registry import CHECKS
    from gaplab.engine.events import UserRequestFinished
    from gaplab.engine.record import RunRecord
    from gaplab.scenario.loader import validate_text
    from gaplab.scenario.models import Scenario

    scenario = validate_text(
        "version: 1\nname: s\ntitle: s\nload: {inputs: {questions: 1, injection: 1}}\n"
        "phases: [{name: attack, for: 10s, faults: [provider: {behaviour: obey_injection}]}]\n",
        "s.yaml",
        Scenario,
    )
    record = RunRecord()
    from gaplab.engine.events import PhaseEnded, PhaseStarted

    record(
        PhaseStarted(
            t=0, phase="attack", index=0, duration=10, faults=("x",), outage=False, slow=0.0
        )
    )
    for n in range(40):
        kind = "questions" if n % 2 else "injection"
        record(
            UserRequestFinished(
                t=n / 4,
                request_id=f"r{n}",
                user="u",
                phase="attack",
                started=n / 4,
                latency=0.1,
                outcome="ok",
                status=200,
                input_kind=kind,
            )
        )
    record(PhaseEnded(t=10, phase="attack", index=0))
    check = CHECKS["security.injection"]
    result = check.decide(CheckContext(scenario, record, 10.0), check.Options())
    assert result.verdict is Verdict.FAIL  # canned "ok" answers, no model behind them
    assert "refusing everything is not a defence" in result.summary
