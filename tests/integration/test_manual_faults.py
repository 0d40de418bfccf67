"""Faults applied by hand during a real run (real provider, load generator and proxy):
they act at once, are journaled with what they hit, and `lab report` rebuilds the same
verdicts from the journal."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from gaplab.engine.manual import PRESETS, preset_from_spec
from gaplab.engine.run import LabRun, RunOptions
from gaplab.headless import finish_run
from gaplab.report.model import MANUAL_NOTE
from gaplab.report.rebuild import rebuild_report
from gaplab.scenario.library import load_scenario
from gaplab.target.resolve import resolve_target

DATA = Path(__file__).parent.parent / "tui" / "data"
SCENARIO = """\
version: 1
name: manual
title: Calm, with faults applied by hand
target: provider-direct.yaml
seed: 7
sla: 5s
load: {users: 4, think: 50ms, patience: 5s}
phases:
  - {name: baseline, for: 1500ms}
  - name: outage
    for: 600ms
    faults:
      - provider: {error: 503}
  - {name: recovery, for: 2500ms}
checks:
  - resilience.fallback
  - resilience.recovery
"""


def _run(tmp_path: Path) -> LabRun:
    shutil.copy(DATA / "provider-direct.yaml", tmp_path / "provider-direct.yaml")
    (tmp_path / "manual.yaml").write_text(SCENARIO)
    model, path = load_scenario(str(tmp_path / "manual.yaml"))
    target = resolve_target(model.target, relative_to=path.parent, interface=model.interface)
    options = RunOptions(
        scenario=model,
        target=target,
        target_label=model.target,
        runs_dir=tmp_path / "runs",
        network_proxy=True,
    )
    return LabRun(options)


async def _until(condition: object, within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_manual_fault_acts_is_journaled_and_replays_to_the_same_verdicts(
    tmp_path: Path,
) -> None:
    run = _run(tmp_path)
    task = asyncio.create_task(run.execute())
    await _until(lambda: run.phase_name == "recovery")
    await run.apply_manual(PRESETS["provider_503"])
    assert run.manual_faults == ("provider_503",)
    assert "provider: error 503" in run.snapshot().active_faults
    await asyncio.sleep(0.8)
    await run.clear_manual()
    assert run.manual_faults == ()
    result = await task
    finished = finish_run(run, result, json_path=None, junit_path=None)
    live = finished.report

    (span,) = live["manual_faults"]
    assert span["name"] == "provider_503" and span["phase"] == "recovery"
    assert 0.7 < span["end_s"] - span["start_s"] < 2.0
    assert span["hits"] > 0  # it answered real calls with 503
    assert span["spec"] == {"provider": {"error": 503}}
    assert (
        preset_from_spec("again", "again", span["spec"]).provider
        == PRESETS["provider_503"].provider
    )
    # The planned outage kept its own coverage, unbroken by the manual change.
    outage = next(p for p in live["phases"] if p["name"] == "outage")
    assert outage["coverage"][0]["hits"] > 0
    # The manual 503s landed in the recovery phase: users got them (relayed as they are,
    # which the lab counts as unsafe: a provider error reached the user).
    recovery = next(p for p in live["phases"] if p["name"] == "recovery")
    assert recovery["outcomes"]["error"] + recovery["outcomes"]["unsafe"] > 0
    assert MANUAL_NOTE in live["verdict"]["headline"]

    rebuilt = rebuild_report(run.run_dir, fail_under=80)
    assert {c["id"]: c["verdict"] for c in rebuilt["checks"]} == {
        c["id"]: c["verdict"] for c in live["checks"]
    }
    assert rebuilt["verdict"]["headline"] == live["verdict"]["headline"]
    assert rebuilt["manual_faults"] == live["manual_faults"]


async def test_an_injection_burst_switches_the_inputs_and_clears_itself(tmp_path: Path) -> None:
    run = _run(tmp_path)
    task = asyncio.create_task(run.execute())
    await _until(lambda: run.phase_name == "baseline" and sum(run.snapshot().totals.values()) > 0)
    burst = PRESETS["injection_burst"]
    short = type(burst)(burst.name, burst.title, inputs="injection", lasts=0.8)
    await run.apply_manual(short)
    await _until(lambda: run.manual_faults == (), within=5)  # cleared by itself
    result = await task
    kinds = [r.input_kind for r in result.record.requests]
    assert "injection" in kinds and "questions" in kinds
    (apply, clear) = result.record.manual
    assert (apply.action, clear.action) == ("apply", "clear")
    assert 0.7 < clear.t - apply.t < 1.5
    during = [r for r in result.record.requests if apply.t + 0.3 < r.started < clear.t]
    assert during and all(r.input_kind == "injection" for r in during)


async def test_a_network_cut_needs_the_proxy_and_cuts_the_provider_off(tmp_path: Path) -> None:
    run = _run(tmp_path)
    task = asyncio.create_task(run.execute())
    await _until(lambda: run.phase_name == "recovery")
    await run.apply_manual(PRESETS["network_cut"])
    calls_before = len(run.record.calls)
    await asyncio.sleep(0.6)
    calls_during = len(run.record.calls) - calls_before
    await run.clear_manual("network_cut")
    result = await task
    assert calls_during <= 4  # at most the calls already on their way when it was cut
    cut, back = result.record.manual[0].t, result.record.manual[1].t
    during = [r for r in result.record.requests if cut + 0.1 < r.started < back]
    assert during and all(r.outcome != "ok" for r in during)
