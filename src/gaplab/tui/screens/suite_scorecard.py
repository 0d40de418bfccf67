"""The suite's merged scorecard: the run scorecard (`ScorecardScreen`) over the suite's
combined report, with the evidence kind (measured / probed / attested) and the deciding
scenario in their own columns, the per-area scores (measured and probed, attested) in the
bottom pane, and `enter` opening the deciding scenario's own scorecard (where its example
requests and drill-down are).

`suite_scored()` turns a suite's report.json document into what the screen shows; it is
how the live suite ends and how a past suite folder opens (`lab report SUITE --tui`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from gaplab.suite.report import is_suite_report
from gaplab.tui.evidence import check_detail
from gaplab.tui.screens.scorecard import ScorecardScreen, ScoredRun
from gaplab.tui.suite_rows import merged_checks, scenario_folder
from gaplab.tui.widgets.checklist import verdict_text

KIND_WIDTH = 9  # "attested", "measured", "probed"
SCENARIO_WIDTH = 14  # longer scenario names are cut: the evidence pane names it whole


def suite_scored(document: dict[str, Any], report_path: Path | None, folder: Path) -> ScoredRun:
    """The suite's combined report as a scorecard: its items as the checks."""
    report = {**document, "checks": merged_checks(document), "phases": []}
    return ScoredRun(report, report_path, folder)


def scorecard_screen(scored: ScoredRun) -> ScorecardScreen:
    """The screen for `scored`: the merged one for a suite's report, else a run's."""
    if is_suite_report(scored.report):
        return SuiteScorecardScreen(scored)
    return ScorecardScreen(scored)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


def areas_table(report: dict[str, Any]) -> Table:
    """Per area the measured-and-probed score and the attested one, then the overall."""
    verdict = report["verdict"]
    table = Table(expand=True, box=None, padding=(0, 1), header_style="bold")
    table.add_column("area", no_wrap=True)
    table.add_column("measured and probed", justify="right", no_wrap=True)
    table.add_column("attested", justify="right", no_wrap=True)
    attested = verdict.get("attested_areas") or {}
    for area in dict.fromkeys([*verdict["areas"], *attested]):
        table.add_row(area, _pct(verdict["areas"].get(area)), _pct(attested.get(area)))
    table.add_row(
        Text("overall", style="bold"), _pct(verdict["score"]), _pct(verdict.get("attested_score"))
    )
    return table


class SuiteScorecardScreen(ScorecardScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_examples",
            "Scenario's scorecard",
            id="suite_scorecard.scenario",
            tooltip="Open the scorecard of the scenario that decided the highlighted item: its "
            "phases, example requests and provider calls",
        ),
    ]
    BOTTOM_TITLE: ClassVar[str] = "areas"

    def bottom_parts(self) -> ComposeResult:
        yield Static(areas_table(self.report), id="phases-body")

    def extra_columns(self) -> list[tuple[str, int]]:
        scenario = max([len(c["decided_by"]) for c in self.report["checks"]] or [8])
        return [("kind", KIND_WIDTH), ("scenario", min(scenario, SCENARIO_WIDTH))]

    def extra_cells(self, check: dict[str, Any]) -> list[Text | str]:
        return [Text(check["kind"]), Text(check["decided_by"], overflow="ellipsis")]

    def titles(self) -> tuple[str, str]:
        report = self.report
        return "gaplab · suite scorecard", (
            f"{report['title']} · {len(report['scenarios'])} scenarios · target "
            f"{report['target']} · {report['distinct_items']} items"
        )

    def _show_detail(self, check_id: str) -> None:
        self.shown = check_id
        check = self.checks[check_id]
        parts: list[RenderableType] = [check_detail(check), Text("")]
        parts.append(Text(f"{check['kind']} · decided by {check['decided_by']}", style="bold"))
        per = Table.grid(padding=(0, 2))
        per.add_column(no_wrap=True)
        per.add_column(no_wrap=True)
        per.add_column(overflow="fold")
        theme = self.app.theme_variables
        for entry in check["scenarios"]:
            per.add_row(entry["scenario"], verdict_text(entry["verdict"], theme), entry["summary"])
        parts.append(per)
        self.query_one("#check-detail-body", Static).update(Group(*parts))
        self.query_one("#check-detail", VerticalScroll).scroll_home(animate=False)

    def action_open_examples(self) -> None:
        """The deciding scenario's own scorecard (its examples, phases and drill-down)."""
        check = self.checks.get(self.shown or "")
        if check is None or self.scored.run_dir is None:
            return
        folder = scenario_folder(self.report, self.scored.run_dir, check["decided_by"])
        if folder is None:
            self.notify(f"{check['decided_by']} has no run folder to open", severity="warning")
            return
        self.app.open_past_run(folder)  # type: ignore[attr-defined]
