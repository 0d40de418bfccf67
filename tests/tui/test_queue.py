"""Runs queued one after another (a lesson's two runs, a suite's scenarios): what the live
screen's status line says about them, and what the queue hands back at the end."""

from __future__ import annotations

from typing import Any

from gaplab.tui.queue import QueuedRun, RunQueue


def never() -> Any:
    raise AssertionError("not built in this test")


def test_progress_counts_runs_and_the_planned_time_left() -> None:
    done: list[Any] = []
    queue = RunQueue(
        [
            QueuedRun("outage", never, 45.0),
            QueuedRun("hang", never, 45.0),
            QueuedRun("drift", never, 39.0),
        ],
        done=lambda app, results: done.append((app, results)),
        title="readiness",
    )
    first = queue.next()
    assert first is not None and first.label == "outage"
    assert queue.progress() == "readiness: run 1 of 3 (outage) · about 2:09 left"
    queue.record("finished-1")  # type: ignore[arg-type]
    assert queue.next() is not None
    assert queue.progress() == "readiness: run 2 of 3 (hang) · about 1:24 left"
    queue.cancel()
    assert queue.next() is None  # stopped: nothing more starts
    queue.finish("app")
    assert done == [("app", [(first, "finished-1")])]
