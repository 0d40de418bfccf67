"""The phase timeline: one band per phase, as wide as its planned duration, coloured by its
faults (outage, slowness, other), filled up to the run's current position.

Drawn from the scenario's plan before the run starts, so the whole timeline is visible at
once; `show(snapshot)` only moves the position, and redraws only when it changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from gaplab.engine.timeline import PlannedPhase
from gaplab.metrics.snapshot import Snapshot

FILLED, EMPTY = "█", "░"


def phase_kind(step: PlannedPhase) -> str:
    """`outage`, `slow`, `fault` or `calm`: the band colour of a phase."""
    if step.outage:
        return "outage"
    if step.slow > 0:
        return "slow"
    return "fault" if step.phase.faults else "calm"


def band_widths(plan: Sequence[PlannedPhase], width: int) -> list[int]:
    """Split `width` cells over the phases in proportion to duration, each at least 1."""
    total = sum(step.phase.duration for step in plan) or 1.0
    widths = [max(1, round(step.phase.duration / total * width)) for step in plan]
    while sum(widths) > width and max(widths) > 1:
        widths[widths.index(max(widths))] -= 1
    if widths:
        widths[-1] += max(0, width - sum(widths))
    return widths


def position_of(plan: Sequence[PlannedPhase], snapshot: Snapshot) -> float:
    """Seconds into the timeline, from the current phase and the time spent in it."""
    if snapshot.phase_index is None or not plan:
        return 0.0
    step = plan[min(snapshot.phase_index, len(plan) - 1)]
    return min(step.end, step.start + snapshot.phase_elapsed)


class PhaseTimeline(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--calm",
        "timeline--fault",
        "timeline--slow",
        "timeline--outage",
        "timeline--label",
    }
    DEFAULT_CSS = """
    PhaseTimeline { height: 3; }
    """

    position: reactive[float] = reactive(0.0)
    finished: reactive[bool] = reactive(False)

    def __init__(self, plan: Sequence[PlannedPhase], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plan = tuple(plan)
        self.duration = self.plan[-1].end if self.plan else 0.0

    def show(self, snapshot: Snapshot) -> None:
        done = snapshot.status in {"completed", "interrupted", "failed"}
        # Quantised so a 10 Hz tick redraws only when a cell would change.
        self.position = round(position_of(self.plan, snapshot), 1)
        self.finished = done

    def render(self) -> Text:
        width = max(10, self.size.width)
        widths = band_widths(self.plan, width)
        filled_cells = round(self.position / self.duration * width) if self.duration else 0
        bar, labels = Text(no_wrap=True), Text(no_wrap=True)
        label_style = self.get_component_rich_style("timeline--label")
        cell = 0
        for step, cells in zip(self.plan, widths, strict=True):
            style = self.get_component_rich_style(f"timeline--{phase_kind(step)}")
            filled = max(0, min(cells, filled_cells - cell))
            bar.append(FILLED * filled + EMPTY * (cells - filled), style=style)
            name = step.phase.name[: max(0, cells - 1)]
            labels.append(name.ljust(cells), style=label_style)
            cell += cells
        current = self._current_phase()
        faults = "; ".join(current.descriptions) if current else ""
        state = "finished" if self.finished else (current.phase.name if current else "starting")
        status = Text(
            f"{self.position:5.1f}s / {self.duration:g}s  {state}"
            + (f"  [{faults}]" if faults and not self.finished else ""),
            no_wrap=True,
            overflow="ellipsis",
        )
        return Text("\n").join([bar, labels, status])

    def _current_phase(self) -> PlannedPhase | None:
        for step in self.plan:
            if step.start <= self.position < step.end:
                return step
        return self.plan[-1] if self.plan and self.position >= self.duration else None
