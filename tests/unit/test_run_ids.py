"""A run claims its folder when it gets its id: runs started in the same second, in one
process or several, never share a folder (their journals would interleave)."""

from __future__ import annotations

import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from gaplab.engine.run import _new_run_id


def test_runs_of_one_scenario_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    ids = [_new_run_id(runs, "outage") for _ in range(5)]
    assert len(set(ids)) == 5
    for run_id in ids:
        folder = runs / run_id
        assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_processes_racing_for_a_run_id_each_get_a_folder(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with ProcessPoolExecutor(4) as pool:
        ids = list(pool.map(_new_run_id, [runs] * 16, ["outage"] * 16))
    assert len(set(ids)) == 16
    assert sorted(p.name for p in runs.iterdir()) == sorted(ids)
