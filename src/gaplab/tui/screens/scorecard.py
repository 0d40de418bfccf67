"""The scorecard screen: the verdict, one row per check, its evidence in a scrollable pane,
the phases, and a drill-down from a check's example requests to the provider calls.

It renders the report document (`gaplab.report.model`), the same dict the JSON and JUnit
files are written from, so the screen and the files cannot disagree. Highlighting a check
shows why it matters and the numbers behind the verdict; `enter` opens its example
requests; `tab` moves to the evidence pane, which scrolls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from gaplab.checks.decide import STOPPED_HOW
from gaplab.engine.record import RunRecord
from gaplab.report.model import MANUAL_NOTE, verdict_headline
from gaplab.tui.drilldown import load_record
from gaplab.tui.evidence import check_detail, manual_table, phases_table
from gaplab.tui.widgets.checklist import verdict_text

VERDICT_WIDTH = 8


def headline_class(report: dict[str, Any]) -> str:
    """`ready`, `not-ready`, `incomplete` or `no-verdict`: the headline's colour."""
    headline = report["verdict"].get("headline") or verdict_headline(report)
    for word, name in (
        ("INCOMPLETE", "incomplete"),
        ("NO VERDICT", "no-verdict"),
        ("NOT READY", "not-ready"),
        ("READY", "ready"),
    ):
        if headline.startswith(word):
            return name
    return "not-ready"


@dataclass
class ScoredRun:
    """What the scorecard shows: the report, where it is, and where to find more."""

    report: dict[str, Any]
    report_path: Path | None = None
    run_dir: Path | None = None
    problem: str | None = None  # a report file that could not be written
    error_log: Path | None = None  # the traceback of a bug in gaplab
    target_log: Path | None = None
    _record: RunRecord | None = field(default=None, repr=False)

    def record(self) -> RunRecord | None:
        """The run record, for the drill-down (read back from the journal when needed)."""
        if self._record is None and self.run_dir is not None:
            self._record = load_record(self.run_dir)
        return self._record


def notes_of(scored: ScoredRun) -> list[str]:
    report = scored.report
    notes = []
    if scored.problem:
        notes.append(scored.problem)
    if report.get("error"):
        notes.append(f"lab error: {report['error']}")
    if scored.error_log is not None:
        notes.append(f"the traceback is in {scored.error_log}")
    if scored.target_log is not None and report.get("status") == "failed":
        notes.append(f"target log: {scored.target_log}")
    if report.get("partial"):
        stopped = report["verdict"].get("stopped")
        how = STOPPED_HOW.get(report["status"], report["status"])
        notes.append(f"partial report: {stopped}" if stopped else f"partial report: the run {how}")
    if report.get("manual_faults"):
        notes.append(MANUAL_NOTE)
    if scored.report_path is not None:
        notes.append(f"report: {scored.report_path}")
    return notes


class ScorecardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "n",
            "app.new_run",
            "New run",
            id="scorecard.new_run",
            tooltip="Back to the picker to choose another scenario and target",
        ),
        Binding(
            "enter",
            "open_examples",
            "Example requests",
            id="scorecard.examples",
            tooltip="Open the highlighted check's example requests: what the user got and the "
            "provider calls it caused",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="scorecard.back",
            tooltip="Back to where this scorecard was opened from (a lesson, the past runs)",
        ),
        Binding(
            "c",
            "app.compare_runs",
            "Compare",
            id="scorecard.compare",
            tooltip="Compare this run with another past run",
        ),
    ]

    BOTTOM_TITLE: ClassVar[str] = "phases"

    def __init__(self, scored: ScoredRun) -> None:
        super().__init__()
        self.scored = scored
        self.report = scored.report
        self.checks: dict[str, dict[str, Any]] = {c["id"]: c for c in self.report["checks"]}
        self.shown: str | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        headline = self.report["verdict"].get("headline") or verdict_headline(self.report)
        yield Static(Text(headline), id="headline", classes=headline_class(self.report))
        yield Static(Text("\n".join(notes_of(self.scored))), id="report-notes")
        with Horizontal(id="scorecard-middle"):
            yield DataTable(id="score-checks", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="check-detail", can_focus=True):
                yield Static("", id="check-detail-body")
        with VerticalScroll(id="score-phases"):
            yield from self.bottom_parts()
        yield Footer()

    # Hooks for a scorecard of another shape (the suite's merged one: gaplab.tui.screens.
    # suite_scorecard): what the bottom pane holds, and columns after the verdict.
    def bottom_parts(self) -> ComposeResult:
        yield Static(phases_table(self.report), id="phases-body")
        manual = manual_table(self.report)
        if manual is not None:
            yield Static(manual, id="manual-body")

    def extra_columns(self) -> list[tuple[str, int]]:
        """(label, width) of the columns between the verdict and the summary."""
        return []

    def extra_cells(self, check: dict[str, Any]) -> list[Text | str]:
        return []

    def titles(self) -> tuple[str, str]:
        """The header's title and subtitle."""
        scenario = self.report.get("scenario") or {}
        return (
            "gaplab · scorecard",
            f"{scenario.get('title') or ''} · target {self.report.get('target')}",
        )

    def on_mount(self) -> None:
        self.title, self.sub_title = self.titles()
        self.query_one("#report-notes").display = bool(notes_of(self.scored))
        self.query_one("#check-detail").border_title = "evidence"
        self.query_one("#score-phases").border_title = self.BOTTOM_TITLE
        self._fit(self.app.size.width, self.app.size.height)
        self._fill_checks()
        checks = self.query_one("#score-checks", DataTable)
        checks.focus()
        if self.report["checks"]:
            self._show_detail(self.report["checks"][0]["id"])

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)
        if self.is_mounted:
            self._fill_checks()

    def _fit(self, width: int, height: int) -> None:
        self.set_class(width < 120 or height < 34, "small")

    def _check_width(self) -> int:
        return max([len(c["id"]) + 2 for c in self.report["checks"]] or [10])

    def _summary_width(self) -> int:
        table = self.query_one("#score-checks", DataTable)
        width = table.size.width or self.app.size.width
        extra = sum(w + 2 for _, w in self.extra_columns())
        return max(20, width - self._check_width() - VERDICT_WIDTH - extra - 6)

    def _fill_checks(self) -> None:
        """(Re)build the rows with the summary column as wide as the table allows."""
        theme = self.app.theme_variables
        table: DataTable[Text | str] = self.query_one("#score-checks", DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        # Fixed widths: auto widths did not follow rows of height=None (the header and the
        # cells drifted apart).
        table.add_column("check", key="check", width=self._check_width())
        table.add_column("verdict", key="verdict", width=VERDICT_WIDTH)
        for label, width in self.extra_columns():
            table.add_column(label, key=label, width=width)
        table.add_column("summary", key="summary", width=self._summary_width())
        for check in self.report["checks"]:
            name = check["id"] + (" ★" if check["critical"] else "")
            # height=None: the row grows to the wrapped summary, never cut at the column.
            table.add_row(
                name,
                verdict_text(check["verdict"], theme),
                *self.extra_cells(check),
                Text(check["summary"], overflow="fold"),
                key=check["id"],
                height=None,
            )
        if self.report["checks"]:
            table.move_cursor(row=min(cursor, len(self.report["checks"]) - 1))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "score-checks" and event.row_key.value is not None:
            self._show_detail(event.row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "score-checks":
            self.action_open_examples()

    def _show_detail(self, check_id: str) -> None:
        self.shown = check_id
        self.query_one("#check-detail-body", Static).update(check_detail(self.checks[check_id]))
        self.query_one("#check-detail", VerticalScroll).scroll_home(animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":  # opened over another screen (not the run's own scorecard)
            return len(self.app.screen_stack) > 2
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_open_examples(self) -> None:
        from gaplab.tui.screens.request import RequestScreen

        check = self.checks.get(self.shown or "")
        examples = (check or {}).get("example_requests") or []
        if not examples:
            self.notify("This check names no example requests", severity="warning")
            return
        self.app.push_screen(RequestScreen(check or {}, examples, self.scored.record()))
