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


def test_markdown_and_html_need_a_headless_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["run", "outage", "--tui", "--html", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 2
    assert "--markdown and --html need a headless run" in result.output
    assert not (tmp_path / "r.html").exists()
