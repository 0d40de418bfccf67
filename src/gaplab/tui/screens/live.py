"""The live run screen: timeline, outcome counters, sparklines, checks and the event log.

It never reacts to single events: a timer pulls `run.snapshot()` at `TICK_HZ` and updates
every widget inside one `batch_update()`, so the UI's cost is per tick, not per request.
The run itself is owned by the app (a worker); this screen only watches it.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Log, Static

from gaplab.engine.run import LabRun
from gaplab.engine.timeline import plan
from gaplab.metrics.snapshot import Snapshot
from gaplab.tui.widgets.checklist import CheckList
from gaplab.tui.widgets.eventfeed import EventFeed
from gaplab.tui.widgets.outcomes import OutcomeCounters
from gaplab.tui.widgets.rates import RatesPanel
from gaplab.tui.widgets.timeline import PhaseTimeline

TICK_HZ = 8
LOG_LINES = 300


def run_title(run: LabRun) -> str:
    return (
        f"[b]{run.scenario.title}[/b]  ·  target {run.options.target_label}  ·  "
        f"seed {run.seed}  ·  {run.run_dir}"
    )


class LiveRunScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s",
            "app.stop_run",
            "Stop run",
            id="run.stop",
            tooltip="Stop the run: every part is shut down and a partial scorecard is shown",
        ),
    ]

    def __init__(self, run: LabRun) -> None:
        super().__init__(id="live")
        self.run = run
        self.feed = EventFeed()
        self.ticks = 0
        self.last: Snapshot | None = None
        self._timer: Timer | None = None
        self._subscribed = True
        run.bus.subscribe(self.feed)

    def compose(self) -> ComposeResult:
        yield Static(run_title(self.run), id="run-title")
        yield Static("starting: provider, target, users…", id="run-status")
        yield PhaseTimeline(plan(self.run.scenario), id="timeline")
        yield OutcomeCounters(id="outcomes")
        with Horizontal(id="live-middle"):
            yield RatesPanel(id="rates")
            with Vertical(id="checks-box"):
                yield CheckList([c.id for c in self.run.scenario.checks], id="checks")
        log = Log(max_lines=LOG_LINES, id="event-log")
        log.border_title = "events"
        yield log
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#checks-box").border_title = "checks"
        self.query_one("#rates").border_title = "live rates"
        self._timer = self.set_interval(1 / TICK_HZ, self.refresh_from_snapshot)

    def on_unmount(self) -> None:
        self.stop_watching()

    def stop_watching(self) -> None:
        """Stop the tick and leave the bus (the app calls this after a final refresh)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._subscribed:
            self._subscribed = False
            self.run.bus.unsubscribe(self.feed)

    def set_status(self, text: str) -> None:
        self.query_one("#run-status", Static).update(text)

    def refresh_from_snapshot(self) -> None:
        snapshot = self.run.snapshot()
        self.last = snapshot
        self.ticks += 1
        lines = self.feed.drain()
        with self.app.batch_update():
            self.query_one(PhaseTimeline).show(snapshot)
            self.query_one(OutcomeCounters).show(snapshot)
            self.query_one(RatesPanel).show(snapshot)
            self.query_one(CheckList).show(snapshot)
            if lines:
                self.query_one("#event-log", Log).write_lines(lines)
            if snapshot.status == "running":
                self.set_status(
                    f"running · {snapshot.requests_per_second:.1f} req/s · "
                    f"{', '.join(snapshot.active_faults) or 'no faults active'}"
                )
