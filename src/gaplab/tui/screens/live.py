"""The live run screen: timeline, charts on the same time axis, what the target is doing,
the checks as they are decided, the event log and the target's log; chaos keys.

It never reacts to single events: a timer pulls `run.snapshot()` at `TICK_HZ` and updates
every widget inside one `batch_update()`, so the UI's cost is per tick, not per request.
The run itself is owned by the app (a worker); this screen only watches it and asks the
app to apply faults by hand (`action_chaos`). Below 120×34 the screen takes the `small`
class and app.tcss drops the second and third chart and the target log.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Log, Static

from gaplab.engine.manual import PRESETS
from gaplab.engine.run import LabRun
from gaplab.engine.timeline import plan
from gaplab.metrics.snapshot import SecondBucket, Snapshot
from gaplab.report import figures
from gaplab.tui.widgets.checklist import CheckList
from gaplab.tui.widgets.eventfeed import EventFeed
from gaplab.tui.widgets.logtail import LogTail
from gaplab.tui.widgets.outcomes import OutcomeCounters
from gaplab.tui.widgets.target_panel import TargetPanel
from gaplab.tui.widgets.timechart import TimeChart
from gaplab.tui.widgets.timeline import PhaseTimeline

TICK_HZ = 8
LOG_LINES = 300
SMALL = (120, 34)  # below this width or height the screen drops its secondary panels

# Chaos keys: digit -> preset name (gaplab.engine.manual.PRESETS); 0 clears them all.
CHAOS_KEYS: dict[str, str] = {
    "1": "provider_503",
    "2": "hang",
    "3": "latency",
    "4": "rate_limit",
    "5": "injection_burst",
    "6": "model_swap",
    "7": "network_cut",
}


def run_title(run: LabRun) -> str:
    return f"{run.scenario.title} · target {run.options.target_label} · seed {run.seed}"


def _p95_ms(bucket: SecondBucket) -> float | None:
    return None if bucket.p95 is None else bucket.p95 * 1000


def _calls(bucket: SecondBucket) -> float | None:
    return float(bucket.provider_calls)


def _in_flight(bucket: SecondBucket) -> float | None:
    return None if bucket.in_flight is None else float(bucket.in_flight)


def _ms(value: float) -> str:
    return figures.duration(value / 1000)


def _per_s(value: float) -> str:
    return f"{value:,.0f}/s"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def chaos_bindings() -> list[BindingType]:
    bindings: list[BindingType] = [
        Binding(
            key,
            f"chaos('{name}')",
            PRESETS[name].title,
            show=False,
            id=f"chaos.{name}",
            tooltip=f"Apply {PRESETS[name].title} now (press again to clear it): "
            f"{PRESETS[name].describe()}",
        )
        for key, name in CHAOS_KEYS.items()
    ]
    bindings.append(
        Binding(
            "0",
            "chaos_clear",
            "Clear chaos",
            id="chaos.clear",
            tooltip="Clear every fault applied by hand",
        )
    )
    return bindings


class LiveRunScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s",
            "app.stop_run",
            "Stop run",
            id="run.stop",
            tooltip="Stop the run: every part is shut down and a partial scorecard is shown",
        ),
        Binding(
            "enter",
            "app.show_scorecard",
            "Scorecard",
            id="run.scorecard",
            tooltip="After the run: go to the scorecard now instead of waiting",
            priority=True,  # else the focused checks table takes enter for itself
        ),
        *chaos_bindings(),
    ]

    def __init__(self, run: LabRun, *, progress: str = "") -> None:
        super().__init__()
        self.run = run
        self.progress = progress  # "run 2 of 5 · about 1:20 left" when runs are queued
        self.feed = EventFeed()
        self.ticks = 0
        self.last: Snapshot | None = None
        self._timer: Timer | None = None
        self._subscribed = True
        self._status_override = ""
        self.planned = plan(run.scenario)
        run.bus.subscribe(self.feed)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        yield Static("starting: provider, target, users…", id="run-status")
        with Horizontal(id="live-main"):
            with Vertical(id="live-left"):
                yield PhaseTimeline(self.planned, id="timeline")
                yield OutcomeCounters(id="outcomes")
                yield TimeChart(
                    self.planned, "latency p95", _p95_ms, _ms, floor=100.0, id="chart-latency"
                )
                yield TimeChart(
                    self.planned, "provider calls", _calls, _per_s, floor=1.0, id="chart-calls"
                )
                yield TimeChart(
                    self.planned, "in flight", _in_flight, _count, floor=1.0, id="chart-flight"
                )
            with Vertical(id="live-right"):
                yield TargetPanel(id="target")
                yield CheckList([c.id for c in self.run.scenario.checks], id="checks")
        with Horizontal(id="live-bottom"):
            log = Log(max_lines=LOG_LINES, id="event-log")
            log.border_title = "events"
            yield log
            tail = LogTail(self.target_log_path(), id="target-log")
            tail.border_title = "target log"
            yield tail
        yield Footer()

    def target_log_path(self) -> Path | None:
        return self.run.run_dir / "target.log" if self.run.options.target.start else None

    def on_mount(self) -> None:
        self.title = "gaplab"
        self.sub_title = run_title(self.run)
        self.query_one("#target").border_title = "what the target is doing"
        self.query_one("#checks").border_title = "checks"
        self._timer = self.set_interval(1 / TICK_HZ, self.refresh_from_snapshot)
        self._fit(self.app.size.width, self.app.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        small = width < SMALL[0] or height < SMALL[1]
        tiny = width < 100 or height < 28
        self.set_class(small, "small")
        self.set_class(tiny, "tiny")
        target = self.query_one(TargetPanel)
        if target.compact != small:
            target.compact = small
            target.rows = []  # redrawn in the new form at the next tick
            if self.last is not None:
                target.show(self.last)
        self.query_one(CheckList).show_header = not tiny

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
        self._status_override = text
        self.query_one("#run-status", Static).update(text)

    def action_chaos(self, name: str) -> None:
        self.app.call_later(self.app.toggle_manual, name)  # type: ignore[attr-defined]

    def action_chaos_clear(self) -> None:
        self.app.call_later(self.app.clear_manual)  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("chaos", "chaos_clear"):
            return self.last is None or self.last.status in ("starting", "running")
        return True

    def refresh_from_snapshot(self, *, everything: bool = False) -> None:
        """One tick. The charts redraw on even ticks and the rest on odd ones (4 Hz each):
        one repaint of every widget at once held the loop for ~40 ms at 2,000 events/s,
        half of them at a time stays well under the engine's lag budget. The last tick of
        a run (`everything`) draws all of it."""
        snapshot = self.run.snapshot()
        self.last = snapshot
        self.ticks += 1
        charts = everything or self.ticks % 2 == 0
        panels = everything or self.ticks % 2 == 1
        with self.app.batch_update():
            if charts:
                self._show_charts(snapshot)
            if panels:
                self._show_panels(snapshot)

    def _show_charts(self, snapshot: Snapshot) -> None:
        rolling, flight = snapshot.rolling, snapshot.in_flight
        p95 = rolling.latency.p95 if rolling is not None else None
        self.query_one("#chart-latency", TimeChart).show(
            snapshot, figures.duration(p95) if p95 is not None else "no answers"
        )
        self.query_one("#chart-calls", TimeChart).show(
            snapshot, f"{snapshot.provider_calls_per_second:.1f}/s"
        )
        self.query_one("#chart-flight", TimeChart).show(
            snapshot, f"{flight.users:,}" if flight is not None else "-"
        )
        self.query_one(PhaseTimeline).show(snapshot)

    def _show_panels(self, snapshot: Snapshot) -> None:
        self.query_one(OutcomeCounters).show(snapshot)
        self.query_one(TargetPanel).show(snapshot)
        self.query_one(CheckList).show(snapshot)
        lines = self.feed.drain()
        if lines:
            self.query_one("#event-log", Log).write_lines(lines)
        self.query_one(LogTail).poll()
        if snapshot.status == "running" and not self._status_override:
            # One line, always: no layout pass (it cost ~60 ms a tick at 160x48).
            self.query_one("#run-status", Static).update(
                self.running_status(snapshot), layout=False
            )

    def running_status(self, snapshot: Snapshot) -> str:
        faults = ", ".join(snapshot.active_faults) or "no faults"
        manual = self.run.manual_faults
        by_hand = f" · by hand: {', '.join(manual)}" if manual else ""
        progress = f"{self.progress} · " if self.progress else ""
        return (
            f"{progress}running · phase {snapshot.phase or '-'} · "
            f"{snapshot.requests_per_second:.1f} req/s · {faults}{by_hand}"
        )
