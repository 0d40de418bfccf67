"""Bad input and bugs through the real `lab` command in a subprocess: the exit code CI
sees (2 for input, 3 for a bug in gaplab, never 1), a clear message, no traceback."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

LAB = [sys.executable, "-m", "gaplab"]

SCENARIO = """\
version: 1
name: short
title: Short
load: {users: 1}
phases:
  - {name: a, for: 1s}
checks: [resilience.fallback]
"""


def _lab(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LAB, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=50
    )


def test_binary_file_and_directory_are_exit_2(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    result = _lab("validate", binary, tmp_path, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"error: {binary}:1:1: not UTF-8 text (byte 0xff): is it a binary file?",
        f"error: {tmp_path}: is a directory, not a file",
    ]


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ['x-a0: &a0 "lol"']
    for level in range(1, 10):
        lines.append(f"x-a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(SCENARIO + "\n".join(lines) + "\ndescription: *a9\n")
    started = time.perf_counter()
    result = _lab("validate", bomb, cwd=tmp_path)
    elapsed = time.perf_counter() - started  # the interpreter's start included
    assert result.returncode == 2
    assert "more than 100000 values once aliases are expanded" in result.stderr
    # Never the minutes (and gigabytes) of expanding it; a busy machine may take seconds
    # just to start Python.
    assert elapsed < 30, elapsed


def test_an_unusable_runs_dir_is_exit_2(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    result = _lab("run", scenario, "--runs-dir", "/proc/gaplab-runs", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --runs-dir /proc/gaplab-runs: cannot create a file")
    assert "Traceback" not in result.stderr


def test_a_port_out_of_range_is_exit_2(tmp_path: Path) -> None:
    result = _lab("provider", "serve", "--port", "70000", cwd=tmp_path)
    assert result.returncode == 2
    assert "70000 is not in the range 0<=x<=65535" in result.stderr


def test_a_bug_during_a_run_is_exit_3_with_the_log_in_the_run_folder(tmp_path: Path) -> None:
    """A planted bug in the engine, after the run folder exists: the traceback goes there."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    runs = tmp_path / "runs"
    program = textwrap.dedent(
        f"""
        import sys
        from gaplab.engine.run import LabRun
        from gaplab.cli import main

        async def broken(self):
            raise ZeroDivisionError("a planted bug")

        LabRun._run = broken
        main(["run", {str(scenario)!r}, "--runs-dir", {str(runs)!r}])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path, timeout=50
    )
    assert result.returncode == 3, result.stdout + result.stderr
    (run_dir,) = runs.iterdir()
    log = run_dir / "lab-error.log"
    assert "internal error: ZeroDivisionError: a planted bug" in result.stderr
    assert re.search(rf"the traceback is in {re.escape(str(log))}; please report it", result.stderr)
    text = log.read_text()
    assert "Traceback" in text and "in broken" in text
    assert "Traceback" not in result.stderr + result.stdout
