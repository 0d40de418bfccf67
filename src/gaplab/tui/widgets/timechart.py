"""A chart of one per-second figure over the run's timeline, with the fault bands behind it.

Drawn by hand with eighth-block characters rather than with textual-plotext: plotext lays
out its own axes and margins, so its x axis cannot be made to line up column for column
with the timeline above it, and a plotext redraw cost several milliseconds per chart
(a UI tick has 20 ms for everything). Here a column is exactly a timeline column
(`TimeMap`), its background is that column's phase kind (and the faults applied by hand),
and a tick costs one pass over the columns.

A second with nothing in it draws as an empty column, so a stall reads as a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from gaplab.engine.timeline import PlannedPhase
from gaplab.metrics.snapshot import SecondBucket, Snapshot
from gaplab.tui.widgets.strips import strip_of
from gaplab.tui.widgets.timemap import TimeMap, position_of, timeline_origin

BLOCKS = " ▁▂▃▄▅▆▇█"

Series = Callable[[SecondBucket], float | None]
Formatter = Callable[[float], str]


def column_values(
    timemap: TimeMap, seconds: Sequence[SecondBucket], series: Series
) -> list[float | None]:
    """The largest value of the seconds falling in each column (None: no data there)."""
    values: list[float | None] = [None] * timemap.width
    if timemap.origin is None:
        return values
    for bucket in seconds:
        value = series(bucket)
        if value is None:
            continue
        offset = bucket.second + 0.5 - timemap.origin
        if offset < 0 or offset > timemap.duration:
            continue
        first = timemap.column(bucket.second - timemap.origin)
        last = timemap.column(bucket.second + 1 - timemap.origin - 1e-9)
        for column in range(first, last + 1):
            current = values[column]
            values[column] = value if current is None else max(current, value)
    return values


class TimeChart(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timechart--bar",
        "timechart--title",
        "timechart--calm",
        "timechart--fault",
        "timechart--slow",
        "timechart--outage",
        "timechart--manual",
        "timechart--cursor",
    }

    def __init__(
        self,
        plan: Sequence[PlannedPhase],
        title: str,
        series: Series,
        formatter: Formatter,
        *,
        floor: float = 1.0,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.plan = tuple(plan)
        self.title = title
        self.series = series
        self.formatter = formatter
        self.floor = floor  # the smallest top of the scale (so noise does not fill it)
        self.values: tuple[float | None, ...] = ()
        self.caption = ""
        self._cursor = -1
        self._manual: frozenset[int] = frozenset()
        self._drawn: tuple[object, ...] | None = None
        self._lines: list[Strip] = []

    def show(self, snapshot: Snapshot, now_text: str) -> None:
        width = max(10, self.size.width)
        timemap = TimeMap(self.plan, timeline_origin(snapshot), width)
        position = position_of(self.plan, snapshot)
        self._cursor = timemap.column(position) if position > 0 else -1
        self._manual = frozenset(timemap.manual_columns(snapshot.manual, snapshot.t))
        self.caption = now_text
        values = column_values(timemap, snapshot.seconds, self.series)
        if self._cursor >= 0:  # a second still going may reach past the cursor: not yet
            values[self._cursor + 1 :] = [None] * (len(values) - self._cursor - 1)
        self.values = tuple(values)
        key = (self.values, self.caption, self._cursor, self._manual, self.size)
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

    def top(self) -> float:
        return max([self.floor, *(v for v in self.values if v is not None)])

    def _draw(self) -> list[Strip]:
        width = max(10, self.size.width)
        rows = max(1, (self.size.height or 4) - 1)
        values = list(self.values[:width]) + [None] * max(0, width - len(self.values))
        top = self.top()
        title_style = self.get_component_rich_style("timechart--title")
        text = f"{self.title}  now {self.caption}  ·  top {self.formatter(top)}"
        lines = [strip_of([(text[:width], title_style)], width)]
        kinds = TimeMap(self.plan, None, width).kinds()
        bar = self.get_component_rich_style("timechart--bar")
        styles = {
            kind: bar + Style(bgcolor=self.get_component_rich_style(f"timechart--{kind}").bgcolor)
            for kind in ("calm", "fault", "slow", "outage", "manual", "cursor")
        }
        column_styles = [
            styles["cursor"]
            if column == self._cursor
            else styles["manual"]
            if column in self._manual
            else styles[kinds[column]]
            for column in range(width)
        ]
        eighths = [
            0
            if value is None or top <= 0
            else max(1 if value > 0 else 0, round(value / top * rows * 8))
            for value in values
        ]
        # Runs of columns sharing a background: each row is a few segments, built from
        # one string per run (a segment per cell cost ~10 ms a chart at 160x48).
        runs: list[tuple[int, int, Style]] = []
        for column, style in enumerate(column_styles):
            if runs and runs[-1][2] is style:
                runs[-1] = (runs[-1][0], column + 1, style)
            else:
                runs.append((column, column + 1, style))
        for row in range(rows - 1, -1, -1):
            base = row * 8
            chars = "".join(BLOCKS[min(8, max(0, e - base))] for e in eighths)
            segments = [Segment(chars[start:end], style) for start, end, style in runs]
            lines.append(Strip(segments, width))
        return lines
