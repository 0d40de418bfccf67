"""Each live widget fed real `Snapshot`s (synthetic events through the real aggregator),
mounted in a small host app; assertions are on the numbers and cells drawn."""

from __future__ import annotations

from textual.app import App, ComposeResult

from gaplab.engine.events import (
    CheckEvaluated,
    LogMessage,
    ManualFault,
    PhaseStarted,
    UserRequestFinished,
)
from gaplab.engine.timeline import plan
from gaplab.metrics.aggregator import Aggregator
from gaplab.metrics.snapshot import Snapshot
from gaplab.tui.widgets.checklist import PENDING, CheckList
from gaplab.tui.widgets.eventfeed import EventFeed
from gaplab.tui.widgets.outcomes import OutcomeCounters
from gaplab.tui.widgets.target_panel import TargetPanel, rows_of
from gaplab.tui.widgets.timechart import TimeChart, column_values
from gaplab.tui.widgets.timeline import CURSOR, FILLED, PhaseTimeline, axis
from gaplab.tui.widgets.timemap import TimeMap, position_of, timeline_origin

from .conftest import SIZE
from .synthetic import SCENARIO, aggregator, events

WIDTH = 80  # the host's left column: one column is 4 s / 80 = 0.05 s of timeline


def _calls(bucket: object) -> float | None:
    return float(bucket.provider_calls)  # type: ignore[attr-defined]


def _p95_ms(bucket: object) -> float | None:
    p95 = bucket.p95  # type: ignore[attr-defined]
    return None if p95 is None else p95 * 1000


class Host(App[None]):
    CSS = "#timeline { height: 5; width: 80; } TimeChart { height: 5; width: 80; }"

    def compose(self) -> ComposeResult:
        steps = plan(SCENARIO)
        yield PhaseTimeline(steps, id="timeline")
        yield OutcomeCounters(id="outcomes")
        yield TimeChart(steps, "calls", _calls, str, id="chart-calls")
        yield TimeChart(steps, "p95", _p95_ms, str, floor=1.0, id="chart-p95")
        yield TargetPanel(id="target")
        yield CheckList([c.id for c in SCENARIO.checks], id="checks")

    def show(self, snapshot: Snapshot) -> None:
        with self.batch_update():
            self.query_one(PhaseTimeline).show(snapshot)
            self.query_one(OutcomeCounters).show(snapshot)
            self.query_one("#chart-calls", TimeChart).show(snapshot, "")
            self.query_one("#chart-p95", TimeChart).show(snapshot, "")
            self.query_one(TargetPanel).show(snapshot)
            self.query_one(CheckList).show(snapshot)


def test_the_synthetic_snapshot_is_what_the_widget_tests_expect() -> None:
    snapshot = aggregator().snapshot()
    assert snapshot.totals == {"ok": 10, "degraded": 3, "refused": 0, "error": 4, "unsafe": 0}
    assert snapshot.provider_calls == 24
    assert snapshot.phase == "outage" and snapshot.phase_elapsed == 1.0
    # One bucket per second 0..3, calls by arrival second.
    assert [b.second for b in snapshot.seconds] == [0, 1, 2, 3]
    assert [b.provider_calls for b in snapshot.seconds] == [7, 3, 14, 0]


async def test_counters_charts_timeline_panel_and_checks_draw_the_snapshot() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        snapshot = aggregator().snapshot()
        app.show(snapshot)
        await pilot.pause()
        counters = app.query_one(OutcomeCounters)
        assert [counters.value(o) for o in ("ok", "degraded", "error", "unsafe")] == [
            "10",
            "3",
            "4",
            "0",
        ]
        line = str(counters.query_one("#count-line").render())
        assert "ok 10 · degr 3 · ref 0 · err 4 · unsafe 0" in line

        # Calls per column: second 0 (7 calls) spans columns 0-19, second 2 (14) 40-59;
        # second 3 is still going: nothing drawn right of the cursor (column 60).
        chart = app.query_one("#chart-calls", TimeChart)
        assert chart.values[0] == 7 and chart.values[25] == 3 and chart.values[45] == 14
        assert chart.values[60] == 0 and all(v is None for v in chart.values[61:])
        assert chart.top() == 14
        p95 = app.query_one("#chart-p95", TimeChart)
        assert p95.values[10] is not None and abs(p95.values[10] - 250) < 5
        assert p95.values[60] is None  # no answer in second 3: a gap, not a bar

        timeline = app.query_one(PhaseTimeline)
        assert timeline.position == 3.0
        rows = timeline.text_lines()
        assert rows[0].index(CURSOR) == 60 and rows[0][:60] == FILLED * 60
        assert "outage" in rows[1] and "provider: error 503" in rows[1]
        assert rows[2].startswith("baseline") and "outage" in rows[2]

        panel = app.query_one(TargetPanel)
        assert panel.value("calls per request") == "1.41 now · 1.41 run"  # 24 calls / 17

        table = app.query_one(CheckList)
        assert [str(table.get_cell(k, "verdict")) for k in table.check_ids] == [PENDING] * 2

        # A verdict arrives: the row is updated in place, no row is added.
        app.show(aggregator(decided=True).snapshot())
        await pilot.pause()
        assert table.row_count == 2
        assert str(table.get_cell("resilience.fallback", "verdict")) == "FAIL"
        assert str(table.get_cell("resilience.recovery", "verdict")) == PENDING


def test_a_stall_is_a_run_of_empty_columns_not_a_missing_stretch() -> None:
    """Defect 1: 30 s with no event used to be 3 columns; now it is 30 empty buckets."""
    agg = aggregator()
    agg.now = 33.5  # nothing at all happened after second 3
    snapshot = agg.snapshot()
    assert [b.second for b in snapshot.seconds] == list(range(34))
    assert all(b.requests == 0 and b.provider_calls == 0 for b in snapshot.seconds[4:])
    assert snapshot.rolling is not None and snapshot.rolling.latency.count == 0
    # Last 5 s only: the 250 ms baseline answers are no "p95 now" during a stall.
    assert snapshot.rolling.latency.p95 is None
    assert snapshot.latency.p95 is not None  # the whole-run figure still remembers them
    rows = dict((label, value) for label, value, _ in rows_of(snapshot))
    assert rows["answers (last 5 s)"] == "none finished"


def test_rolling_latency_is_the_last_five_seconds() -> None:
    agg = Aggregator()
    agg(PhaseStarted(0.0, "p", 0, 60.0, (), False, 0.0))
    for n in range(50):  # 50 slow answers in the first 5 s
        agg(UserRequestFinished(0.1 * n + 2.0, f"a{n}", "u", "p", 0.1 * n, 2.0, "ok", 200))
    for n in range(20):  # then 20 fast ones in seconds 20-21
        agg(
            UserRequestFinished(
                20 + 0.1 * n, f"b{n}", "u", "p", 20 + 0.1 * n - 0.05, 0.05, "ok", 200
            )
        )
    snapshot = agg.snapshot()
    assert snapshot.rolling is not None
    assert snapshot.rolling.latency.count == 20
    p95 = snapshot.rolling.latency.p95
    assert p95 is not None and abs(p95 - 0.05) < 0.002
    whole = snapshot.latency.p95
    assert whole is not None and whole > 1.9  # the whole run: the slow ones dominate


def test_in_flight_requests_and_the_oldest_age_are_the_hang_signal() -> None:
    agg = aggregator()
    agg.note_in_flight(3.2, users=20, oldest_s=7.5, upstream=20)
    snapshot = agg.snapshot()
    assert snapshot.in_flight is not None and snapshot.in_flight.users == 20
    assert snapshot.seconds[3].in_flight == 20
    label, value, style = rows_of(snapshot)[0]
    assert (label, value, style) == (
        "in flight",
        "20 requests · oldest 7.50 s · 20 upstream",
        "alarm",
    )
    compact = rows_of(snapshot, compact=True)
    assert compact[0][1] == "20 · oldest 7.50 s"
    assert max(len(label) + 1 + len(value) for label, value, _ in compact) <= 34


def test_manual_faults_show_on_the_timeline_and_behind_the_charts() -> None:
    agg = aggregator()
    agg(ManualFault(2.5, "apply", "hang", "provider: hang", "provider", "outage"))
    snapshot = agg.snapshot()
    timemap = TimeMap(tuple(plan(SCENARIO)), timeline_origin(snapshot), WIDTH)
    columns = timemap.manual_columns(snapshot.manual, snapshot.t)
    assert min(columns) == 50 and max(columns) == 60  # 2.5 s .. now (3.0 s)


def test_axis_ticks_and_positions() -> None:
    assert axis(40, 4.0).plain.startswith("0s") and "2s" in axis(40, 4.0).plain
    steps = plan(SCENARIO)
    assert position_of(steps, aggregator(now=3.5).snapshot()) == 3.5
    # Past the end of the current phase the position stops at the phase's end.
    assert position_of(steps, aggregator(now=9.0).snapshot()) == 4.0
    snapshot = aggregator().snapshot()
    timemap = TimeMap(tuple(steps), 0.0, WIDTH)
    values = column_values(timemap, snapshot.seconds, _calls)
    assert len(values) == WIDTH and values[79] == 0  # second 3 (empty) reaches the end


def test_event_feed_keeps_rare_events_only_and_is_bounded() -> None:
    feed = EventFeed(capacity=5)
    for event in events():
        feed(event)
    lines = feed.drain()
    assert feed.drain() == []
    # 1 run start, 2 phase starts, 1 fault change; requests and calls are never logged.
    assert len(lines) == 4
    assert lines[0].startswith("[   0.0s] run run-1: synthetic against demo:naive")
    assert "phase 2 outage (2s): provider: error 503" in lines[2]
    assert not any("req-" in line for line in lines)
    for n in range(8):
        feed(LogMessage(t=float(n), level="info", message=f"m{n}"))
    feed(CheckEvaluated(t=9.0, check_id="c", verdict="pass", summary="fine"))
    feed(UserRequestFinished(9.0, "r", "u", "p", 8.0, 1.0, "ok", 200))
    lines = feed.drain()
    assert len(lines) == 5 and feed.dropped == 4
    assert lines[-1] == "[   9.0s] check c: PASS: fine"
    feed(CheckEvaluated(t=9.5, check_id="c", verdict="fail", summary="x", final=False))
    assert feed.drain() == ["[   9.5s] check c: FAIL (decided live): x"]
