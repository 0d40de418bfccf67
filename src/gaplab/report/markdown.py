"""The Markdown report: GitHub-flavoured, for `$GITHUB_STEP_SUMMARY` or a pull-request
comment (`lab run ... --markdown FILE`, `lab report RUN --markdown FILE`).

The verdict headline, per-area scores, failing, warning and borderline items first with
their one-line evidence, then the rest, the phases with what their faults hit, and the
lab's own load figures (event-loop lag, arrivals planned and started), and on Locust each
worker's share and health. No
links (URLs in evidence are defanged), no raw HTML, and the text is the report document's,
already PII-masked. Rendered from `templates/report.md.j2`; a suite gets a section per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gaplab.report import figures
from gaplab.report.console import lab_line
from gaplab.report.model import verdict_headline
from gaplab.report.templating import markdown_environment
from gaplab.report.workers import workers_line

ICONS = {"pass": "✅", "fail": "❌", "warn": "⚠️", "not_run": "➖"}


def section(report: dict[str, Any]) -> dict[str, Any]:
    """What the templates need of one run beyond the document: headline, item order."""
    checks = figures.ordered_checks(report["checks"])
    headline = verdict_headline(report)
    ready = report["verdict"]["ready"]
    icon = "✅" if ready else "➖" if headline.startswith(("INCOMPLETE", "NO VERDICT")) else "❌"
    return {
        "report": report,
        "headline": headline,
        "icon": icon,
        "icons": ICONS,
        "attention": [c for c in checks if figures.attention(c)],
        "rest": [c for c in checks if not figures.attention(c)],
        "lab": lab_line(report),  # the lab's own load figures, as the console shows them
        "workers": workers_line(report),  # --load locust: each worker's share and health
    }


def render_markdown(reports: Sequence[dict[str, Any]]) -> str:
    """One section per report (one for a run, several for a suite)."""
    template = markdown_environment().get_template("report.md.j2")
    return template.render(sections=[section(r) for r in reports])


def write_markdown(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown([report]), encoding="utf-8")
