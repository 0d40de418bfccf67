"""Each live widget fed real `Snapshot`s (synthetic events through the real aggregator),
mounted in a small host app; assertions are on the numbers and cells drawn."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Sparkline

from gaplab.engine.events import CheckEvaluated, LogMessage, UserRequestFinished
from gaplab.engine.timeline import plan
from gaplab.metrics.snapshot import Snapshot
from gaplab.tui.widgets.checklist import PENDING, CheckList
from gaplab.tui.widgets.eventfeed import EventFeed
from gaplab.tui.widgets.outcomes import OutcomeCounters
from gaplab.tui.widgets.rates import RatesPanel, amplification, latency_series, ms
from gaplab.tui.widgets.timeline import FILLED, PhaseTimeline, band_widths, position_of

from .conftest import SIZE
from .synthetic import SCENARIO, aggregator, events


class Host(App[None]):
    CSS_PATH = "../../src/gaplab/tui/app.tcss"

    def compose(self) -> ComposeResult:
        yield PhaseTimeline(plan(SCENARIO), id="timeline")
        yield OutcomeCounters(id="outcomes")
        yield RatesPanel(id="rates")
        yield CheckList([c.id for c in SCENARIO.checks], id="checks")

    def show(self, snapshot: Snapshot) -> None:
        with self.batch_update():
            self.query_one(PhaseTimeline).show(snapshot)
            self.query_one(OutcomeCounters).show(snapshot)
            self.query_one(RatesPanel).show(snapshot)
            self.query_one(CheckList).show(snapshot)


def test_the_synthetic_snapshot_is_what_the_widget_tests_expect() -> None:
    snapshot = aggregator().snapshot()
    assert snapshot.totals == {"ok": 10, "degraded": 3, "refused": 0, "error": 4, "unsafe": 0}
    assert snapshot.provider_calls == 24
    assert snapshot.phase == "outage" and snapshot.phase_elapsed == 1.0
    assert amplification(snapshot) == 24 / 17
    # p95 per second in ms: baseline answers (250 ms) in seconds 0 and 1, then the
    # outage's fast errors and 40 ms fallbacks in second 2.
    series = latency_series(snapshot)
    assert len(series) == 3
    for drawn, expected in zip(series, (250, 250, 40), strict=True):
        assert abs(drawn - expected) < 0.02 * expected


async def test_counters_rates_timeline_and_checks_draw_the_snapshot() -> None:
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
        rates = app.query_one(RatesPanel)
        calls = rates.query_one("#calls-spark", Sparkline)
        assert list(calls.data or ()) == [7.0, 3.0, 14.0]  # calls arriving in seconds 0, 1, 2
        calls_label = str(rates.query_one("#calls-label").render())
        assert "24 calls" in calls_label and "1.41 per request" in calls_label
        latency_label = str(rates.query_one("#latency-label").render())
        p95 = snapshot.latency.p95
        assert p95 is not None and abs(p95 - 0.25) < 0.005  # the baseline's 250 ms
        assert f"p95 {ms(p95)}" in latency_label

        timeline = app.query_one(PhaseTimeline)
        assert timeline.position == 3.0
        bar = timeline.render().plain.splitlines()[0]
        assert bar.count(FILLED) == round(3.0 / 4.0 * len(bar))
        assert "outage" in timeline.render().plain.splitlines()[1]
        assert "[provider: error 503]" in timeline.render().plain

        table = app.query_one(CheckList)
        assert [str(table.get_cell(k, "verdict")) for k in table.check_ids] == [PENDING] * 2

        # A verdict arrives: the row is updated in place, no row is added.
        app.show(aggregator(decided=True).snapshot())
        await pilot.pause()
        assert table.row_count == 2
        assert str(table.get_cell("resilience.fallback", "verdict")) == "FAIL"
        assert str(table.get_cell("resilience.recovery", "verdict")) == PENDING


def test_band_widths_follow_durations_and_fill_the_width() -> None:
    steps = plan(SCENARIO)
    assert band_widths(steps, 100) == [50, 50]
    assert sum(band_widths(steps, 37)) == 37
    snapshot = aggregator(now=3.5).snapshot()
    assert position_of(steps, snapshot) == 3.5
    # Past the end of the current phase the position stops at the phase's end.
    assert position_of(steps, aggregator(now=9.0).snapshot()) == 4.0


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
