"""`--load locust` against the built-in load, same scenario, same seed, real demo targets:
the same verdicts, from requests Locust sent (its process, its client), classified on the
worker and sent back as the lab's own events. Closed users (hang, injection), open
arrivals (outage: the Locust processes share the arrival plan) and streamed answers
(stream_faults: read on the Locust side as the built-in reads them)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from gaplab.engine.run import RunResult
from gaplab.resources import bundled_dir

from .short import explain, run_targets, short_copy, verdicts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TARGETS = ["demo:naive", "demo:hardened"]


@pytest.mark.parametrize(("name", "scale"), [("hang", 0.35), ("injection", 0.35)])
async def test_locust_users_give_the_built_in_verdicts(
    name: str, scale: float, tmp_path: Path
) -> None:
    path = short_copy(name, tmp_path, scale)
    builtin = await run_targets(path, TARGETS, tmp_path / "builtin")
    for workers in (0, 2):  # Locust's local runner; a master and 2 local workers
        runs = tmp_path / f"locust-{workers}"
        more = ["--load", "locust", "--locust-workers", str(workers)]
        locust = await run_targets(path, TARGETS, runs, *more)
        for target in TARGETS:
            _same_verdicts(builtin[target], locust[target], target, workers)


# As tests/e2e/test_bundled_margins.py shortens it: its verdicts there are far from their
# limits (the hardened demo's budget and breaker break scaled to the short phases).
OPEN_TARGETS = ["demo:naive", "demo:hardened?budget=1.2s&break=2s"]


def short_outage(tmp_path: Path) -> Path:
    document = yaml.safe_load((bundled_dir("scenarios") / "outage.yaml").read_text())
    for phase, length in zip(document["phases"], ("4s", "6s", "7s"), strict=True):
        phase["for"] = length
    document["sla"], document["load"]["patience"] = "3s", "8s"
    document["checks"] = [
        {"resilience.recovery": {"within": "3s"}} if check == "resilience.recovery" else check
        for check in document["checks"]
    ]
    path = tmp_path / "outage.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


async def test_open_arrivals_on_locust_give_the_built_in_verdicts(tmp_path: Path) -> None:
    path = short_outage(tmp_path)
    builtin = await run_targets(path, OPEN_TARGETS, tmp_path / "builtin")
    naive = verdicts(builtin["demo:naive"])
    assert naive["resilience.fallback"].value == "fail"  # the outage really played
    assert verdicts(builtin[OPEN_TARGETS[1]])["resilience.fallback"].value == "pass"
    for workers in (0, 2):
        runs = tmp_path / f"locust-{workers}"
        more = ["--load", "locust", "--locust-workers", str(workers)]
        locust = await run_targets(path, OPEN_TARGETS, runs, *more)
        for target in OPEN_TARGETS:
            ours, theirs = builtin[target], locust[target]
            _same_verdicts(ours, theirs, target, workers)
            # The same arrival plan: as many arrivals, all started; the same request ids
            # (arrival n is user n % 50's next request, on whichever worker).
            mine, yours = _arrivals(ours), _arrivals(theirs)
            assert yours["dropped"] == yours["missed"] == 0, yours
            assert abs(yours["planned"] - mine["planned"]) <= 0.05 * mine["planned"], (mine, yours)
            assert yours["started"] == yours["planned"]
            ids = {r.request_id for r in ours.record.requests}
            theirs_ids = {r.request_id for r in theirs.record.requests}
            assert len(ids & theirs_ids) >= 0.9 * len(ids), (len(ids), len(theirs_ids))
            if workers:  # both workers sent their arrivals
                assert set(_shares(theirs)) == {0, 1}


async def test_streamed_answers_on_locust_give_the_built_in_verdicts(tmp_path: Path) -> None:
    # As the defence matrix plays it (gaplab.demo.ownership: shortest 0.6, break=1s).
    path = short_copy("stream_faults", tmp_path, 0.6, minimum=3.0)
    targets = ["demo:naive", "demo:hardened?break=1s"]
    builtin = await run_targets(path, targets, tmp_path / "builtin")
    assert verdicts(builtin[targets[0]])["resilience.stream_integrity"].value == "fail"
    assert verdicts(builtin[targets[1]])["resilience.stream_integrity"].value == "pass"
    more = ["--load", "locust", "--locust-workers", "0"]
    locust = await run_targets(path, targets, tmp_path / "locust", *more)
    for target in targets:
        ours, theirs = builtin[target], locust[target]
        _same_verdicts(ours, theirs, target, 0)
        # Each phase's streams end the same way (done, cut, stalled, error event). Which
        # phase a stalled user's next request falls in is timing (the two runs do not
        # share a clock): phases of both only.
        mine, yours = _stream_ends(ours), _stream_ends(theirs)
        both = mine.keys() & yours.keys()
        assert {"baseline", "stall", "error_event", "after"} <= both, (mine, yours)
        assert {p: yours[p] for p in both} == {p: mine[p] for p in both}, target
        streamed = [r for r in theirs.record.requests if r.stream_end == "done"]
        assert streamed and all(r.ttfb is not None and r.chunks > 0 for r in streamed)
        # The baseline's answers are the same streams, request by request.
        assert _baseline_streams(theirs) == _baseline_streams(ours), target


def _arrivals(result: RunResult) -> dict[str, Any]:
    """The run's arrival counts, from its last lab-health event."""
    final: dict[str, Any] = {}
    with (result.run_dir / "events.jsonl").open() as journal:
        for line in journal:
            if '"lab_health"' in line:
                final = json.loads(line)
    return {k: final[f"arrivals_{k}"] for k in ("planned", "started", "dropped", "missed")}


def _shares(result: RunResult) -> set[int]:
    """The workers whose requests reached the lab, as the lab's share report counts them."""
    with (result.run_dir / "events.jsonl").open() as journal:
        logs = [json.loads(line)["message"] for line in journal if '"kind":"log"' in line]
    report = next(m for m in logs if m.startswith("Locust:"))
    return {w for w in range(4) if f"worker {w}: " in report}


def _stream_ends(result: RunResult) -> dict[str, str]:
    """How most of each phase's streams ended (a request at a phase edge may meet the next
    phase's fault: timing, on either load)."""
    ends: dict[str, Counter[str]] = {}
    for r in result.record.requests:
        ends.setdefault(r.phase, Counter())[r.stream_end] += 1
    return {phase: counts.most_common(1)[0][0] for phase, counts in ends.items()}


def _baseline_streams(result: RunResult) -> dict[str, tuple[str, str, int]]:
    first = result.record.phases[0].name
    return {
        r.request_id: (r.outcome, r.stream_end, r.chunks)
        for r in result.record.requests
        if r.phase == first and r.request_id.endswith(("-000001", "-000002"))
    }


def _same_verdicts(ours: RunResult, theirs: RunResult, target: str, workers: int) -> None:
    assert theirs.status == "completed", theirs.error
    assert verdicts(theirs) == verdicts(ours), (target, workers, explain(ours), explain(theirs))
    assert (theirs.run_dir / "locust.log").is_file()
    users = {r.user for r in theirs.record.requests if r.endpoint == "ai"}
    assert users == {r.user for r in ours.record.requests if r.endpoint == "ai"}
    # Same seeded inputs per user: each user's first request is the same input.
    assert _first_inputs(theirs) == _first_inputs(ours)
    # As many requests, within the timing noise (the first phase is not cut short).
    assert abs(len(theirs.record.requests) - len(ours.record.requests)) < 0.15 * len(
        ours.record.requests
    ), (len(theirs.record.requests), len(ours.record.requests))


def _first_inputs(result: RunResult) -> dict[str, str]:
    return {
        r.user: r.input_kind for r in result.record.requests if r.request_id.endswith("-000001")
    }
