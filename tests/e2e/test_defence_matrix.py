"""`lab matrix` as a real subprocess: real `lab run`s of the opt-out scenario against the real
hardened demo with and without its defences. The table as shipped holds (exit 0); a table
that is wrong on purpose (an ownership file) is caught, naming the unexpected and the
missing flip (exit 1); Ctrl-C stops every run and every process under it (exit 130)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .test_no_orphans import _alive, descendants

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(150),
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc"),
]

LAB = [sys.executable, "-m", "gaplab", "matrix"]


def _matrix(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    done = subprocess.run(
        [*LAB, *args, "--runs-dir", str(tmp_path / "runs"), "--markdown", str(tmp_path / "m.md")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    (folder,) = (tmp_path / "runs").iterdir()
    return done, json.loads((folder / "matrix.json").read_text())


def test_two_cheap_defences_flip_exactly_what_the_table_says(tmp_path: Path) -> None:
    done, matrix = _matrix(tmp_path, "--only", "consent,disclosure", "--scale", "0.05")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {r["defence"]: r for r in matrix["rows"]}
    assert rows["consent"]["flipped"] == ["governance.consent"]
    assert rows["disclosure"]["flipped"] == ["governance.ai_disclosure"]
    assert all(not r["unexpected"] and not r["missing"] for r in rows.values())
    # One shared baseline and two removals, each a complete run folder next to matrix.json.
    runs = {r["name"]: r for r in matrix["runs"]}
    assert set(runs) == {"opt_out", "opt_out.without-consent", "opt_out.without-disclosure"}
    assert runs["opt_out.without-consent"]["target"] == "demo:hardened?without=consent"
    for run in runs.values():
        folder = Path(run["run_dir"])
        assert folder.parent == tmp_path / "runs" / Path(run["run_dir"]).parent.name
        assert (folder / "report.json").is_file() and (folder / "events.jsonl").is_file()
    baseline = json.loads((Path(runs["opt_out"]["run_dir"]) / "report.json").read_text())
    assert {c["verdict"] for c in baseline["checks"]} == {"pass"}
    assert matrix["scale"] == 0.05 and matrix["exit_code"] == 0
    markdown = (tmp_path / "m.md").read_text()
    assert (
        "| consent | opt_out (chat) | governance.consent | — | — | governance.ai_disclosure "
        "| as owned |"
    ) in markdown
    assert "every removal flips exactly the checks it owns (2 rows)" in done.stdout


def test_a_wrong_table_exits_1_naming_the_unexpected_and_the_missing_flip(
    tmp_path: Path,
) -> None:
    table = tmp_path / "wrong.yaml"
    table.write_text("consent: {opt_out: [governance.ai_disclosure]}\n")  # wrong on purpose
    done, matrix = _matrix(tmp_path, "--ownership", str(table), "--scale", "0.05")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "unexpected flip: opt_out without consent: governance.consent" in done.stdout
    assert (
        "missing flip: opt_out without consent: governance.ai_disclosure (held: pass -> pass)"
        in done.stdout
    )
    (row,) = matrix["rows"]
    assert row["unexpected"] == ["governance.consent"]
    assert row["missing"] == ["governance.ai_disclosure"]
    assert "unexpected flip: opt_out without consent: governance.consent" in (
        (tmp_path / "m.md").read_text()
    )


def _demo_started(tree: dict[int, str]) -> bool:
    for pid in tree:
        try:
            if b"gaplab.demo" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_ctrl_c_stops_every_run_and_exits_130(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*LAB, "--only", "consent", "--runs-dir", str(tmp_path / "runs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    tree: dict[int, str] = {}
    while time.monotonic() < deadline:  # both runs are up: lab, provider, demo targets
        tree = descendants(process.pid)
        if _demo_started(tree) and len(tree) >= 4:
            break
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"the matrix's runs did not start: {tree}")
    time.sleep(1.0)  # the runs' first phase has begun
    tree = descendants(process.pid)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "SIGINT: stopping every run" in output and "interrupted" in output
    time.sleep(0.5)
    alive = [pid for pid, started in tree.items() if _alive(pid, started)]
    assert not alive, f"still running after the matrix exited: {alive}"
    (folder,) = (tmp_path / "runs").iterdir()
    assert not (folder / "matrix.json").exists()  # no verdict from stopped runs
    # Each stopped run wrote its partial report, as an interrupted `lab run` does.
    reports = [json.loads(p.read_text()) for p in folder.glob("*/report.json")]
    assert reports and {r["status"] for r in reports} == {"interrupted"}
