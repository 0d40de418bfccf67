"""The scorecard screen: the verdict, one row per check with its evidence, and the phases.

It renders the report document (`gaplab.report.model`), the same dict the JSON and JUnit
files are written from, so the screen and the files cannot disagree. Highlighting a check
shows why it matters and the numbers behind the verdict.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from gaplab.engine.events import OUTCOMES
from gaplab.headless import Finished
from gaplab.report.model import verdict_headline
from gaplab.tui.widgets.checklist import verdict_text
from gaplab.tui.widgets.rates import ms


def evidence_text(check: dict[str, Any]) -> Text:
    """Title, summary, why it matters, then the evidence numbers (markup-safe)."""
    evidence = check["evidence"]
    lines = ["", check["summary"], "", check["why"], ""]
    lines.append(f"evidence ({evidence['kind']}), phase {evidence['phase'] or '-'}:")
    lines += [f"  {name}: {value}" for name, value in evidence["numbers"].items()]
    if evidence["examples"]:
        lines.append("  example requests: " + ", ".join(evidence["examples"]))
    return Text.assemble((check["title"], "bold"), "\n".join(lines))


class ScorecardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "n",
            "app.new_run",
            "New run",
            id="scorecard.new_run",
            tooltip="Back to the picker to choose another scenario and target",
        ),
    ]

    def __init__(self, finished: Finished) -> None:
        super().__init__(id="scorecard")
        self.finished = finished
        self.report = finished.report
        self.checks: dict[str, dict[str, Any]] = {c["id"]: c for c in self.report["checks"]}

    def compose(self) -> ComposeResult:
        ready = self.report["verdict"]["ready"]
        yield Static(
            Text(verdict_headline(self.report)),
            id="headline",
            classes="ready" if ready else "not-ready",
        )
        notes = [f"report: {self.finished.report_path}"]
        if self.report["partial"]:
            notes.insert(0, f"partial report: the run was {self.report['status']}")
        if self.report["error"]:
            notes.insert(0, f"lab error: {self.report['error']}")
        if self.finished.problem:
            notes.insert(0, self.finished.problem)
        yield Static(Text("\n".join(notes)), id="report-notes")
        with Horizontal(id="scorecard-middle"):
            yield DataTable(id="score-checks", cursor_type="row", zebra_stripes=True)
            yield Static("", id="check-detail")
        yield DataTable(id="score-phases", cursor_type="none", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        theme = self.app.theme_variables
        checks: DataTable[Text | str] = self.query_one("#score-checks", DataTable)
        checks.add_columns("check", "verdict", "summary")
        for check in self.report["checks"]:
            name = check["id"] + (" ★" if check["critical"] else "")
            checks.add_row(
                name, verdict_text(check["verdict"], theme), check["summary"], key=check["id"]
            )
        phases: DataTable[str] = self.query_one("#score-phases", DataTable)
        phases.add_columns("phase", "faults", *OUTCOMES, "p95")
        phases.add_columns("upstream", "calls/request")
        for phase in self.report["phases"]:
            outcomes, amp = phase["outcomes"], phase["amplification"]
            phases.add_row(
                phase["name"],
                "; ".join(phase["faults"]) or "-",
                *(str(outcomes[o]) for o in OUTCOMES),
                ms(phase["latency"]["p95_s"]),
                str(phase["provider_calls"]),
                "-" if amp is None else f"{amp:.2f}",
            )
        checks.focus()
        if self.report["checks"]:
            self._show_detail(self.report["checks"][0]["id"])

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "score-checks" and event.row_key.value is not None:
            self._show_detail(event.row_key.value)

    def _show_detail(self, check_id: str) -> None:
        self.query_one("#check-detail", Static).update(evidence_text(self.checks[check_id]))
