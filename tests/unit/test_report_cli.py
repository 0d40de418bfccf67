"""The report options of `lab run` and `lab report`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gaplab.cli import main


def test_run_and_report_offer_markdown_and_html() -> None:
    runner = CliRunner()
    for command in ("run", "report"):
        text = runner.invoke(main, [command, "--help"]).output
        assert "--markdown" in text and "--html" in text, command
    assert "compare" in runner.invoke(main, ["--help"]).output


def test_markdown_and_html_paths_are_checked_before_anything_runs(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    runner = CliRunner()
    for option in ("--markdown", "--html"):
        result = runner.invoke(
            main, ["run", "outage", "--runs-dir", str(tmp_path / "runs"), option,
                   str(blocker / "report")],
        )  # fmt: skip
        assert result.exit_code == 2, result.output
        assert f"{option} {blocker / 'report'}: {blocker} is a file, not a folder" in result.output
        assert not (tmp_path / "runs").exists()  # no run started
