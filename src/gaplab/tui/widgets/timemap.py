"""One time axis for the timeline and every chart under it: run-clock seconds to columns.

The timeline and the charts share a width (the same container), so a column means the
same instant in each: the fault bands of the timeline sit behind the chart bars that
happened during them, and the cursor is at the same column everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gaplab.engine.timeline import PlannedPhase
from gaplab.metrics.snapshot import ManualSpan, Snapshot


def phase_kind(step: PlannedPhase) -> str:
    """`outage`, `slow`, `fault` or `calm`: the band colour of a phase."""
    if step.outage:
        return "outage"
    if step.slow > 0:
        return "slow"
    return "fault" if step.phase.faults else "calm"


@dataclass(frozen=True)
class TimeMap:
    plan: tuple[PlannedPhase, ...]
    origin: float | None  # run clock when the timeline started (phase 1 began)
    width: int

    @property
    def duration(self) -> float:
        return self.plan[-1].end if self.plan else 0.0

    def column(self, offset: float) -> int:
        """The column of `offset` seconds into the timeline (clamped to the width)."""
        if not self.duration:
            return 0
        return max(0, min(self.width - 1, int(offset / self.duration * self.width)))

    def span(self, column: int) -> tuple[float, float]:
        """Timeline offsets [start, end) a column covers."""
        step = self.duration / self.width if self.width else 0.0
        return column * step, (column + 1) * step

    def kinds(self) -> list[str]:
        """The band kind of every column."""
        kinds = []
        for column in range(self.width):
            middle = sum(self.span(column)) / 2
            step = next((s for s in self.plan if s.start <= middle < s.end), None)
            kinds.append(phase_kind(step) if step is not None else "calm")
        return kinds

    def manual_columns(self, spans: Sequence[ManualSpan], now: float) -> set[int]:
        """Columns during which a fault applied by hand was on."""
        if self.origin is None:
            return set()
        columns: set[int] = set()
        for span in spans:
            end = span.end if span.end is not None else now
            first, last = self.column(span.start - self.origin), self.column(end - self.origin)
            columns.update(range(first, last + 1))
        return columns


def timeline_origin(snapshot: Snapshot | None) -> float | None:
    """When phase 1 started on the run clock (None before it did)."""
    if snapshot is None or not snapshot.phases:
        return None
    return snapshot.phases[0].started


def position_of(plan: Sequence[PlannedPhase], snapshot: Snapshot) -> float:
    """Seconds into the timeline, from the current phase and the time spent in it."""
    if snapshot.phase_index is None or not plan:
        return 0.0
    step = plan[min(snapshot.phase_index, len(plan) - 1)]
    return min(step.end, step.start + snapshot.phase_elapsed)
