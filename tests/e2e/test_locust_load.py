"""`--load locust` against the built-in load, same scenario, same seed, real demo targets:
the same verdicts, from requests Locust sent (its process, its client), classified on the
worker and sent back as the lab's own events."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaplab.engine.run import RunResult

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
