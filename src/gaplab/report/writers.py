"""File writers for the report document: JSON here; JUnit XML in gaplab.report.junit,
Markdown in gaplab.report.markdown, HTML in gaplab.report.html (`write_report_files`
writes whichever were asked for).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gaplab.engine.secrets import write_private_text
from gaplab.report.junit import write_junit

__all__ = ["write_json", "write_junit", "write_report_files"]


def write_json(report: dict[str, Any], path: Path, *, private: bool = False) -> None:
    """`private`: the file is readable by its owner only (a run folder's report.json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    if private:
        write_private_text(path, text)
    else:
        path.write_text(text, encoding="utf-8")


def write_report_files(
    report: dict[str, Any],
    *,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    markdown_path: Path | None = None,
    html_path: Path | None = None,
) -> None:
    """Every report file asked for (`--json`, `--junit`, `--markdown`, `--html`)."""
    if json_path is not None:
        write_json(report, json_path)
    if junit_path is not None:
        write_junit(report, junit_path)
    if markdown_path is not None:
        from gaplab.report.markdown import write_markdown

        write_markdown(report, markdown_path)
    if html_path is not None:
        from gaplab.report.html import write_html

        write_html(report, html_path)
