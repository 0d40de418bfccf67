"""The phase timeline: one band per phase, as wide as its planned duration, coloured by its
faults (outage, slowness, other), filled up to a cursor at the run's position; under it
the phase names, the faults applied by hand, a time axis, and what is on now.

Drawn from the scenario's plan before the run starts, so the whole timeline is visible at
once; `show(snapshot)` moves the cursor and redraws only when a cell would change. Rows
are dropped from the bottom up when the widget is short (80×24 keeps bands and status).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from gaplab.engine.timeline import PlannedPhase
from gaplab.metrics.snapshot import ManualSpan, Snapshot
from gaplab.tui.widgets.strips import strip_of
from gaplab.tui.widgets.timemap import TimeMap, position_of, timeline_origin

FILLED, EMPTY, CURSOR, MANUAL = "█", "░", "▼", "▀"
FINISHED = {"completed", "interrupted", "failed"}


def axis(width: int, duration: float) -> Text:
    """`0s        10s        20s`: a tick every ~10 columns at a round number of seconds."""
    if width <= 0 or duration <= 0:
        return Text()
    step = next(
        (s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if s / duration * width >= 10),
        600,
    )
    cells = [" "] * width
    second = 0
    while second <= duration:
        label = f"{second:g}s"
        column = int(second / duration * width)
        if column + len(label) <= width and all(
            c == " " for c in cells[column : column + len(label)]
        ):
            cells[column : column + len(label)] = label
        second += step
    return Text("".join(cells), no_wrap=True)


class PhaseTimeline(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--calm",
        "timeline--fault",
        "timeline--slow",
        "timeline--outage",
        "timeline--label",
        "timeline--cursor",
        "timeline--manual",
    }

    def __init__(self, plan: Sequence[PlannedPhase], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plan = tuple(plan)
        self.duration = self.plan[-1].end if self.plan else 0.0
        self.origin: float | None = None
        self.position = 0.0
        self.finished = False
        self.manual: tuple[ManualSpan, ...] = ()
        self.faults_now: tuple[str, ...] = ()
        self._now = 0.0
        self._drawn: tuple[object, ...] | None = None
        self._lines: list[Strip] = []

    def show(self, snapshot: Snapshot) -> None:
        self.origin = timeline_origin(snapshot)
        self._now = round(snapshot.t, 1)
        # Quantised so a 10 Hz tick redraws only when a cell would change.
        self.position = round(position_of(self.plan, snapshot), 1)
        self.finished = snapshot.status in FINISHED
        self.manual = snapshot.manual
        self.faults_now = snapshot.active_faults
        key = (
            self.position,
            self.finished,
            self.manual,
            self.faults_now,
            self.size,
            self._now if any(s.end is None for s in self.manual) else None,
        )
        if key != self._drawn:
            self._drawn = key
            self._lines = []
            self.refresh()

    def on_resize(self) -> None:
        self._lines = []

    def render_line(self, y: int) -> Strip:
        if not self._lines:
            self._lines = self._draw()
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width)

    def text_lines(self) -> list[str]:
        """The rows as plain text (tests read the timeline this way)."""
        return [line.text for line in self._draw()]

    def _draw(self) -> list[Strip]:
        width = max(10, self.size.width)
        timemap = TimeMap(self.plan, self.origin, width)
        cursor = timemap.column(self.position)
        kinds = timemap.kinds()
        style = {kind: self.get_component_rich_style(f"timeline--{kind}") for kind in set(kinds)}
        cursor_style = self.get_component_rich_style("timeline--cursor")
        bar = []
        for column, kind in enumerate(kinds):
            if column == cursor and not self.finished and self.position > 0:
                bar.append((CURSOR, cursor_style))
            else:
                filled = column < cursor or self.finished
                bar.append((FILLED if filled else EMPTY, style[kind]))
        label_style = self.get_component_rich_style("timeline--label")
        labels = []
        for step in self.plan:
            start = timemap.column(step.start)
            end = timemap.column(step.end) if step.end < self.duration else width
            cells = max(0, end - start)
            labels.append((step.phase.name[: max(0, cells - 1)].ljust(cells), label_style))
        rows = [
            strip_of(bar, width),
            strip_of([(self._status(), Style())], width),
            strip_of(labels, width),
            self._manual_row(timemap),
            strip_of([(axis(width, self.duration).plain, label_style)], width),
        ]
        return rows[: max(1, self.size.height or len(rows))]

    def _manual_row(self, timemap: TimeMap) -> Strip:
        columns = timemap.manual_columns(self.manual, self._now)
        style = self.get_component_rich_style("timeline--manual")
        cells = [(MANUAL if c in columns else " ", style) for c in range(timemap.width)]
        if self.manual:
            names = ", ".join(dict.fromkeys(s.name for s in reversed(self.manual)))
            # The label in the wider free stretch: after the last span or before the first,
            # cut to fit ("…").
            label = f" by hand: {names} "
            first, last = (min(columns), max(columns)) if columns else (0, 0)
            after, before = timemap.width - last - 1, first
            start, room = (last + 1, after) if after >= before else (0, before)
            if len(label) > room:
                label = label[: max(0, room - 2)] + "… " if room > 2 else ""
            for offset, char in enumerate(label):
                cells[start + offset] = (char, style)
        return strip_of(cells, timemap.width)

    def _status(self) -> str:
        current = self._current_phase()
        state = current.phase.name if current else "starting"
        if self.finished:
            state = "finished"
        faults = "; ".join(self.faults_now) if not self.finished else ""
        return f"{self.position:5.1f} s / {self.duration:g} s  {state}" + (
            f"  ·  on now: {faults}" if faults else ""
        )

    def _current_phase(self) -> PlannedPhase | None:
        for step in self.plan:
            if step.start <= self.position < step.end:
                return step
        return self.plan[-1] if self.plan and self.position >= self.duration else None
