"""Project promises: the README's two commands, CI running the same test command, and the
bundled scenarios and profiles shipping inside the wheel."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text, flags=re.S)[:2]


def test_readme_starts_with_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_blocks = re.match(r"# gaplab\n\n```bash\n[^\n]+\n```\n\n```bash\n[^\n]+\n```\n", text)
    assert first_blocks, "README must open with exactly two one-line commands"
    run, test = _readme_commands()
    assert "pip install ." in run and "lab run scenarios/outage.yaml" in run
    assert "pytest" in test and "mypy" in test and "ruff format --check" in test


def test_ci_runs_the_readme_test_command() -> None:
    _, test = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci.splitlines()


@pytest.mark.timeout(120)
def test_wheel_ships_bundled_scenarios_and_profiles(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=110,
    )
    (wheel,) = tmp_path.glob("gaplab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for scenario in (ROOT / "scenarios").glob("*.yaml"):
        assert f"gaplab/_bundled/scenarios/{scenario.name}" in names
    for profile in (ROOT / "mock_providers").glob("*.yaml"):
        assert f"gaplab/_bundled/mock_providers/{profile.name}" in names
    assert "gaplab/py.typed" in names


def test_every_check_is_documented() -> None:
    from gaplab.checks.registry import CHECKS

    text = (ROOT / "docs" / "checks.md").read_text()
    for check_id, check in CHECKS.items():
        assert f"### {'★ ' if check.critical else ''}{check_id}\n" in text, check_id
