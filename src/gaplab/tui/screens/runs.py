"""Past runs of the runs folder (`lab runs`, in the TUI), suites' folders among them: enter
opens one's scorecard (a suite's merged one); space marks runs and `c` compares the two
marked (report/compare.py's data)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from gaplab.report import figures
from gaplab.report.runs import PastRun, find_runs_and_suites

MAX_ROWS = 300


class RunsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="runs.back", tooltip="Back"),
        Binding(
            "space",
            "mark",
            "Mark",
            id="runs.mark",
            tooltip="Mark or unmark the run for a comparison",
        ),
        Binding(
            "c",
            "compare",
            "Compare",
            id="runs.compare",
            tooltip="Compare the two marked runs (or the highlighted one with the newest)",
        ),
    ]

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.runs_dir = runs_dir
        # the suites' folders too (gaplab.suite.report): enter opens the merged scorecard
        self.runs: list[PastRun] = find_runs_and_suites(runs_dir)[:MAX_ROWS]
        self.marked: list[Path] = []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        yield Static(
            f"{len(self.runs)} runs in {self.runs_dir} · enter: open · space: mark · c: compare",
            id="runs-intro",
        )
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "gaplab · past runs"
        table: DataTable[str] = self.query_one("#runs-table", DataTable)
        table.add_column(" ", key="mark", width=1)
        table.add_columns("run", "verdict", "score", "target", "status")
        for run in self.runs:
            table.add_row(
                " ",
                run.path.name,
                run.verdict,
                figures.score(run.score),
                run.target,
                run.status,
                key=str(run.path),
            )
        table.focus()

    def _highlighted(self) -> Path | None:
        table = self.query_one("#runs-table", DataTable)
        if not self.runs or table.cursor_row < 0:
            return None
        return self.runs[table.cursor_row].path

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.open_past_run(Path(event.row_key.value))  # type: ignore[attr-defined]

    def action_mark(self) -> None:
        path = self._highlighted()
        if path is None:
            return
        if path in self.marked:
            self.marked.remove(path)
        else:
            self.marked = [*self.marked[-1:], path]  # the two latest marks
        table = self.query_one("#runs-table", DataTable)
        for run in self.runs:
            table.update_cell(str(run.path), "mark", "●" if run.path in self.marked else " ")

    def action_compare(self) -> None:
        pair = list(self.marked)
        if len(pair) < 2:
            highlighted = self._highlighted()
            newest = self.runs[0].path if self.runs else None
            pair = [p for p in (highlighted, newest) if p is not None]
            if len(pair) == 2 and pair[0] == pair[1] and len(self.runs) > 1:
                pair[1] = self.runs[1].path
        if len(pair) < 2 or pair[0] == pair[1]:
            self.notify("Mark two runs with space to compare them", severity="warning")
            return
        older, newer = sorted(pair, key=lambda p: next(r.started for r in self.runs if r.path == p))
        self.app.compare_paths(older, newer)  # type: ignore[attr-defined]
