"""The live screen's target panel on `--load locust`: each worker's share and state, and a
row per lost worker (warn within the allowance, alarm past it); no rows with the built-in
load. Real `LoadWorkers`/`LoadWorkerLost` events through the real aggregator."""

from __future__ import annotations

from textual.app import App, ComposeResult

from gaplab.locust_load.workers import WorkerBook
from gaplab.metrics.aggregator import Aggregator
from gaplab.tui.widgets.target_panel import TargetPanel, rows_of

from .conftest import SIZE
from .synthetic import aggregator


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield TargetPanel(id="target")


def _locust_run(allowed: int) -> Aggregator:
    agg = aggregator()
    book = WorkerBook(allowed)
    for number in (0, 1):
        book.met(number, 0.0, 40 + number, "vm")
        book.reported(number, 1.0, users=5, in_flight=2, oldest=0.5)
    book.finished(0, 30, 1.0)
    book.finished(1, 10, 1.0)
    lost = book.lose(1, "exited with code -9", "outage", 2.5)
    assert lost is not None
    agg(lost)
    agg(book.snapshot(3.0))
    return agg


async def test_the_panel_shows_each_worker_and_the_lost_one() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(TargetPanel)
        panel.show(_locust_run(allowed=1).snapshot())
        await pilot.pause()
        assert panel.value("workers") == "w0 75% · 5 users · ok  w1 25% · 0 users · lost"
        assert panel.value("lost") == (
            "worker 1 (pid 41 on vm) lost at 2.5 s in phase outage (exited with code -9); "
            "its 5 users moved to the 1 remaining worker"
        )
        styles = {label: style for label, _, style in panel.rows}
        assert styles["workers"] == "warn" and styles["lost"] == "warn"
        panel.show(_locust_run(allowed=0).snapshot())
        await pilot.pause()
        styles = {label: style for label, _, style in panel.rows}
        assert styles["workers"] == "alarm" and styles["lost"] == "alarm"
        assert panel.value("lost").endswith("its 5 users stopped")


def test_compact_rows_fit_and_the_built_in_load_has_none() -> None:
    compact = dict(
        (label, value) for label, value, _ in rows_of(_locust_run(1).snapshot(), compact=True)
    )
    assert compact["workers"] == "w0 75% ok w1 25% lost"
    assert not [r for r in rows_of(aggregator().snapshot()) if r[0] in ("workers", "lost")]
