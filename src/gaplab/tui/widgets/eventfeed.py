"""The run's event log: phase changes, faults, checks and lab messages as text lines.

`EventFeed` is a bus subscriber: it keeps only the rare events, formats them into a bounded
buffer, and the screen drains that buffer into a `Log` (with `max_lines`) once per tick,
so a burst of events costs one `write_lines` call, and requests/calls are never logged.
"""

from __future__ import annotations

from collections import deque

from gaplab.engine.events import (
    CheckEvaluated,
    Event,
    FaultChanged,
    LogMessage,
    ManualFault,
    PhaseStarted,
    RunFinished,
    RunStarted,
)
from gaplab.report.figures import VERDICT_LABEL

FEED_CAPACITY = 500  # lines waiting for the next tick; older ones are dropped


def describe(event: Event) -> str | None:
    """One log line for a rare event, None for anything the log does not show."""
    if isinstance(event, PhaseStarted):
        faults = "; ".join(event.faults) or "no faults"
        return f"phase {event.index + 1} {event.phase} ({event.duration:g}s): {faults}"
    if isinstance(event, FaultChanged):
        if event.source == "manual":
            return None  # the ManualFault line says what changed
        return "faults cleared" if not event.faults else "faults on: " + "; ".join(event.faults)
    if isinstance(event, ManualFault):
        what = "on" if event.action == "apply" else "cleared"
        return f"by hand: {event.fault} {what}"
    if isinstance(event, CheckEvaluated):
        # Decided live as its phases ended, or at the run's end with the whole journal.
        when = "" if event.final else " (decided live)"
        label = VERDICT_LABEL.get(event.verdict, event.verdict)
        return f"check {event.check_id}: {label}{when}: {event.summary}"
    if isinstance(event, LogMessage):
        return f"{event.level}: {event.message}"
    if isinstance(event, RunStarted):
        return f"run {event.run_id}: {event.scenario} against {event.target} (seed {event.seed})"
    if isinstance(event, RunFinished):
        reason = f": {event.reason}" if event.reason else ""
        return f"run {event.status}{reason}"
    return None


class EventFeed:
    """Subscribe with `bus.subscribe(feed)`; call `drain()` on the UI tick."""

    def __init__(self, capacity: int = FEED_CAPACITY) -> None:
        self._lines: deque[str] = deque(maxlen=capacity)
        self.dropped = 0

    def __call__(self, event: Event) -> None:
        line = describe(event)
        if line is None:
            return
        if len(self._lines) == self._lines.maxlen:
            self.dropped += 1
        self._lines.append(f"[{event.t:6.1f}s] {line}")

    def drain(self) -> list[str]:
        lines = list(self._lines)
        self._lines.clear()
        return lines
