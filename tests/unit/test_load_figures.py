"""Dropped arrivals and the lab's own figures: from events to the snapshot, through the
journal, to the JSON report, the progress line and the final table."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from gaplab.checks.scoring import score
from gaplab.engine.events import (
    ArrivalsDropped,
    Event,
    LabHealth,
    PhaseStarted,
    RunStarted,
    UserRequestFinished,
)
from gaplab.engine.journal import JournalWriter, read_journal
from gaplab.load.client import InFlight
from gaplab.load.inputs import Planted, UserInput
from gaplab.metrics.aggregator import Aggregator
from gaplab.report.console import print_scorecard, progress_line
from gaplab.report.html import render_html
from gaplab.report.markdown import render_markdown
from gaplab.report.model import build_report
from gaplab.report.templating import markdown_text
from gaplab.target.classify import Verdict

from .html_index import HTMLIndex
from .report_runs import naive_run


def _health(t: float, *, final: bool = False) -> LabHealth:
    return LabHealth(
        t=t,
        load_model="open",
        window=5.0,
        window_lag_p50=0.001,
        window_lag_p99=0.012,
        window_slip_p50=0.002,
        window_slip_p99=0.031,
        run_lag_p50=0.001,
        run_lag_p99=0.009,
        run_lag_max=0.040,
        run_slip_p50=0.002,
        run_slip_p99=0.025,
        run_slip_max=0.090,
        arrivals_planned=900,
        arrivals_started=860,
        arrivals_dropped=40,
        arrivals_missed=0,
        in_flight=12,
        final=final,
    )


def _events() -> list[Event]:
    phases = (("baseline", 10.0), ("burst", 5.0))
    started = RunStarted(
        t=0, run_id="r", scenario="s", title="t", target="x", seed=1, sla=10, phases=phases,
        provider_base_url="", target_base_url="",
    )  # fmt: skip
    return [
        started,
        PhaseStarted(t=0, phase="baseline", index=0, duration=10, faults=(), outage=False, slow=0),
        _health(1.0),
        PhaseStarted(t=10, phase="burst", index=1, duration=5, faults=(), outage=False, slow=0),
        ArrivalsDropped(t=11, phase="burst", count=25),
        ArrivalsDropped(t=12, phase="burst", count=15),
        _health(15.0, final=True),
    ]


def test_drops_and_lab_figures_reach_the_snapshot_the_journal_and_the_report(
    tmp_path: Path,
) -> None:
    writer = JournalWriter(tmp_path / "events.jsonl")
    for event in _events():
        writer(event)
    writer.close()
    aggregator = Aggregator()
    for event in read_journal(tmp_path / "events.jsonl"):  # what `lab report` rebuilds from
        aggregator(event)
    snap = aggregator.snapshot()
    assert snap.dropped == 40
    assert {p.name: p.dropped for p in snap.phases} == {"baseline": 0, "burst": 40}
    assert snap.lab is not None and snap.lab.arrivals_dropped == 40

    line = progress_line(snap)
    assert line.endswith("| lab lag p99 12ms slip p99 31ms | dropped 40")

    report = build_report(
        run_id="r",
        status="completed",
        scenario={"name": "s", "title": "t"},
        target="x",
        seed=1,
        scorecard=score([]),
        snapshot=snap,
    )
    assert report["totals"]["dropped_arrivals"] == 40
    assert [p["dropped_arrivals"] for p in report["phases"]] == [0, 40]
    assert report["lab"] == {
        "load_model": "open",
        "loop_lag_ms": {"p50": 1.0, "p99": 9.0, "max": 40.0},
        "schedule_slip_ms": {"p50": 2.0, "p99": 25.0, "max": 90.0},
        "arrivals": {"planned": 900, "started": 860, "dropped": 40, "missed": 0},
    }
    console = Console(width=200, record=True)
    print_scorecard(console, report)
    text = console.export_text()
    assert "calls/request ┃ dropped ┃" in text.splitlines()[2]  # the phases table has it
    assert (
        "lab: event-loop lag p50 1 ms, p99 9 ms (max 40 ms); arrivals 900 planned, 860 "
        "started, 40 dropped (max_in_flight), 0 missed; schedule slip p50 2 ms, p99 25 ms"
    ) in text
    # Markdown and HTML show the same line, from the same document.
    line = next(t for t in text.splitlines() if t.startswith("lab: "))
    full = {**naive_run().report(), "lab": report["lab"]}
    assert f"\n{markdown_text(line)}.\n" in render_markdown([full])  # `_` escaped
    page = HTMLIndex(render_html([full]))
    assert page.one("data-lab", "load").text.strip() == line
    full["lab"] = None  # a run the lab did not measure
    assert "lab: " not in render_markdown([full]) and "data-lab" not in render_html([full])


def test_closed_users_show_no_drop_column_and_no_slip() -> None:
    aggregator = Aggregator()
    aggregator(_events()[0])
    closed = LabHealth(**{**_health(2.0).__dict__, "load_model": "closed", "window_slip_p99": None})
    aggregator(closed)
    line = progress_line(aggregator.snapshot())
    assert line.endswith("| lab lag p99 12ms") and "dropped" not in line


def test_a_finished_request_builds_the_same_event_as_the_dataclass_does() -> None:
    planted = (Planted("pii.email", "a@b.c"),)
    given = UserInput("Case KQX-482135: hello", "pii", "KQX-482135", "p-1", planted=planted)
    flight = InFlight("user-0001-000002", "user-0001", "outage", 1.5, "ai", given, True)
    fast = flight.finished(2.0, Verdict("unsafe", "pii", "a@b.c"), 200)
    built = UserRequestFinished(
        t=2.0, request_id="user-0001-000002", user="user-0001", phase="outage", started=1.5,
        latency=0.5, outcome="unsafe", status=200, detail="pii", endpoint="ai",
        input_kind="pii", reference="KQX-482135", payload="p-1",
        planted=(("pii.email", "a@b.c"),), opted_out=True, excerpt="a@b.c",
    )  # fmt: skip
    assert fast == built and fast.to_dict() == built.to_dict() and hash(fast) == hash(built)
    probing = InFlight("probe-1", "probe", "outage", 1.0, "GET /health")
    probe = probing.finished(1.2, Verdict("ok", ""), 200)
    assert probe == UserRequestFinished(
        t=1.2, request_id="probe-1", user="probe", phase="outage", started=1.0,
        latency=probe.latency, outcome="ok", status=200, endpoint="GET /health",
    )  # fmt: skip
