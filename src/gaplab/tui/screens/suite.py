"""The live suite screen (`lab run readiness --tui`): a row per scenario (waiting; running
with its elapsed of expected time and a bar; done with its exit code, headline word and
score), the overall line ("12 of 34 done · 4 running · about 2:10 left"), and a log of
starts and ends. Enter on a finished scenario opens its own scorecard.

The suite itself is owned by the app (a worker running `SuiteRun.execute()`, its
scenarios in their own processes); this screen only watches: suite events are queued by a
listener and a timer pulls `run.snapshot()` at `TICK_HZ`, updating the table by row key
inside one `batch_update()`.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from rich.progress_bar import ProgressBar
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Log, Static

from gaplab.suite.runner import SuiteEvent, SuiteProgress, SuiteRun
from gaplab.tui.suite_rows import ScenarioResult, clock, overall_line, read_result

TICK_HZ = 4
LOG_LINES = 200
BAR_WIDTH = 16
COLUMNS = ("scenario", "state", "progress", "time", "exit", "result", "score")
WORD_COLOUR = {"READY": "success", "NOT READY": "error"}  # else warning (INCOMPLETE, ...)


class SuiteScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s",
            "app.stop_run",
            "Stop suite",
            id="suite.stop",
            tooltip="Stop the suite: the running scenarios get SIGINT and write partial "
            "reports, no more start, and the partial merged scorecard is shown",
        ),
        Binding(
            "m",
            "app.show_scorecard",
            "Merged scorecard",
            id="suite.scorecard",
            tooltip="Once the suite has ended: its merged scorecard now instead of waiting",
        ),
        Binding(
            "ctrl+c",
            "app.quit",
            "Quit",
            show=False,
            id="suite.interrupt",
            tooltip="As q: stop the suite, write the partial report and exit 130",
        ),
    ]

    def __init__(self, run: SuiteRun) -> None:
        super().__init__()
        self.run = run
        self.events: deque[SuiteEvent] = deque()
        self.started: dict[str, float] = {}  # scenario -> suite time it started
        self.results: dict[str, ScenarioResult] = {}
        self.walls: dict[str, float] = {}
        self.last: SuiteProgress | None = None
        self.ticks = 0
        self.ended = False
        self._timer: Timer | None = None
        self._status_override = ""
        run.subscribe(self.events.append)  # called on the app's loop; drained each tick

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        yield Static("starting the scenarios…", id="run-status")
        yield Static("", id="suite-overall")
        yield DataTable(id="suite-scenarios", cursor_type="row", zebra_stripes=True)
        log = Log(max_lines=LOG_LINES, id="suite-log")
        log.border_title = "scenarios started and ended"
        yield log
        yield Footer()

    def on_mount(self) -> None:
        run = self.run
        self.title = "gaplab · suite"
        self.sub_title = (
            f"{run.suite.title or run.suite.suite} · {len(run.order)} scenarios, "
            f"{run.concurrency} at a time · time scale {run.time_scale:g} · {run.run_dir}"
        )
        table: DataTable[Text | str | ProgressBar] = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        for entry in run.order:
            expected = clock(run.expected(entry))
            table.add_row(
                entry.name, Text("waiting", style="dim"), "", f"  — / {expected}", "", "", "",
                key=entry.name,
            )  # fmt: skip
        table.focus()
        self._timer = self.set_interval(1 / TICK_HZ, self.refresh_from_snapshot)
        self.refresh_from_snapshot()

    def on_unmount(self) -> None:
        self.stop_watching()

    def stop_watching(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def set_status(self, text: str) -> None:
        self._status_override = text
        self.query_one("#run-status", Static).update(text)

    def end(self, status: str) -> None:
        """The suite has ended: the last tick, then the status stays as given."""
        self.refresh_from_snapshot()
        self.ended = True
        self.stop_watching()
        self.query_one("#suite-overall", Static).update(
            overall_line(self.run.snapshot(), ended=True)
        )
        self.set_status(status)

    # -- the tick ---------------------------------------------------------------------------

    def refresh_from_snapshot(self) -> None:
        if self.ended:
            return
        self.ticks += 1
        progress = self.run.snapshot()
        self.last = progress
        table: DataTable[Text | str | ProgressBar] = self.query_one(DataTable)
        with self.app.batch_update():
            lines = [self._apply(event, table) for event in self._drain()]
            if lines:
                self.query_one(Log).write_lines(lines)
            for name, elapsed, expected in progress.running:
                table.update_cell(name, "state", Text("running", style="bold"))
                bar = ProgressBar(total=expected, completed=min(elapsed, expected), width=BAR_WIDTH)
                table.update_cell(name, "progress", bar)
                table.update_cell(name, "time", f"{clock(elapsed):>5} / {clock(expected)}")
            self.query_one("#suite-overall", Static).update(overall_line(progress))
            if not self._status_override:
                running = ", ".join(n for n, _, _ in progress.running) or "-"
                self.query_one("#run-status", Static).update(f"running: {running}", layout=False)

    def _drain(self) -> list[SuiteEvent]:
        drained = list(self.events)
        self.events.clear()
        return drained

    def _apply(self, event: SuiteEvent, table: DataTable[Text | str | ProgressBar]) -> str:
        name = event.scenario
        if event.kind == "started":
            self.started[name] = event.t
            return f"{clock(event.t)} start {name}"
        result = read_result(self.run, name, event.exit_code)
        self.results[name] = result
        wall = event.t - self.started.get(name, event.t)
        self.walls[name] = wall
        colour = self.app.theme_variables.get(WORD_COLOUR.get(result.word, "warning"), "")
        score = "n/a" if result.score is None else f"{result.score:.0f}%"
        table.update_cell(name, "state", Text("done"))
        table.update_cell(name, "progress", "")
        table.update_cell(name, "time", f"{clock(wall):>5}")
        table.update_cell(name, "exit", str(event.exit_code))
        table.update_cell(name, "result", Text(result.word, style=f"bold {colour}".strip()))
        table.update_cell(name, "score", score)
        return f"{clock(event.t)} done  {name}: exit {event.exit_code} · {result.headline}"

    # -- keys -----------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        name = event.row_key.value
        if name is None:
            return
        result = self.results.get(name)
        if result is None:
            state = "running" if name in self.started else "waiting"
            self.notify(f"{name} is {state}: its scorecard opens once it is done")
        elif result.run_folder is None:
            self.notify(f"{name}: {result.headline}", severity="warning")
        else:
            self.app.open_past_run(result.run_folder)  # type: ignore[attr-defined]
