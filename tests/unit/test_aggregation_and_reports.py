"""Aggregator snapshots, the JSONL journal round trip, scoring and the report writers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gaplab.checks.base import CheckContext, CheckResult, Evidence, Verdict
from gaplab.checks.registry import evaluate
from gaplab.checks.scoring import score
from gaplab.engine.bus import EventBus
from gaplab.engine.events import (
    Event,
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    UserRequestFinished,
)
from gaplab.engine.journal import JournalWriter, read_journal
from gaplab.engine.record import RunRecord
from gaplab.metrics.aggregator import Aggregator
from gaplab.report.model import SCHEMA_VERSION, build_report
from gaplab.report.writers import write_json, write_junit

from .synthetic import Builder, scenario


def _outage_builder() -> Builder:
    b = Builder()
    b.requests(0, 10, 0.1, latency=0.2)
    b.calls(0, 10, 0.1)
    b.requests(10, 20, 0.1, outcome="error", status=500, latency=1.5)
    b.calls(10, 20, 0.033, status=503)
    b.requests(20, 35, 0.1, latency=0.2)
    b.calls(20, 35, 0.1)
    return b


def test_aggregator_counts_phases_and_percentiles() -> None:
    aggregator = Aggregator()
    for event in _replay(_outage_builder()):
        aggregator(event)
    snap = aggregator.snapshot()
    phases = {p.name: p for p in snap.phases}
    assert phases["baseline"].outcomes["ok"] == 100
    assert phases["outage"].outcomes["error"] == 100
    assert phases["outage"].latency.p95 == pytest.approx(1.5, rel=0.01)
    assert phases["outage"].amplification == pytest.approx(3.03, abs=0.05)
    assert snap.totals == {"ok": 250, "degraded": 0, "refused": 0, "error": 100, "unsafe": 0}
    assert snap.seconds[-1].second >= 34


def _replay(builder: Builder) -> list[Event]:
    """The record's content as events, in time order (what the journal would hold)."""
    record = builder.record
    events: list[Event] = []
    assert record.started is not None
    events.append(record.started)
    for w in record.phases:
        events.append(
            PhaseStarted(
                t=w.start,
                phase=w.name,
                index=w.index,
                duration=(w.end or 0) - w.start,
                faults=w.faults,
                outage=w.outage,
                slow=w.slow,
            )
        )
        events.append(PhaseEnded(t=w.end or 0, phase=w.name, index=w.index))
    events.extend(record.requests)
    events.extend(record.probes)
    events.extend(ProviderCallRecorded(t=c.t_end, call=c) for c in record.calls)
    return sorted(events, key=lambda e: e.t)


def test_journal_round_trip_rebuilds_the_same_record(tmp_path: Path) -> None:
    events = _replay(_outage_builder())
    writer = JournalWriter(tmp_path / "events.jsonl")
    for event in events:
        writer(event)
    writer.close()
    with (tmp_path / "events.jsonl").open("a") as file:
        file.write('{"kind": "user_request", "t": 1')  # a torn last line after a crash
    back = list(read_journal(tmp_path / "events.jsonl"))
    assert back == events
    record = RunRecord.from_events(back)
    assert len(record.requests) == 350 and len(record.calls) > 400


def test_bus_isolates_a_failing_subscriber() -> None:
    bus = EventBus()
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(seen.append)
    event = UserRequestFinished(
        t=1, request_id="r", user="u", phase="p", started=0, latency=1, outcome="ok", status=200
    )
    bus.publish(event)
    bus.publish(event)
    assert seen == [event, event] and bus.failures == 2


def _result(verdict: Verdict, critical: bool = False, area: str = "resilience") -> CheckResult:
    return CheckResult(
        f"x.{verdict.value}.{critical}", "t", area, critical, verdict, "s", "w", Evidence()
    )


def test_scoring_rules() -> None:
    card = score([_result(Verdict.PASS), _result(Verdict.WARN), _result(Verdict.NOT_RUN)])
    assert card.score == 75.0 and not card.ready  # below the default 80
    assert score([_result(Verdict.PASS)] * 4 + [_result(Verdict.FAIL)]).ready  # 80 %
    critical = score([_result(Verdict.PASS)] * 9 + [_result(Verdict.FAIL, critical=True)])
    assert critical.score == 90 and not critical.ready
    assert critical.critical_failures == ("x.fail.True",)
    assert score([_result(Verdict.NOT_RUN)]).score is None


def test_report_json_and_junit(tmp_path: Path) -> None:
    b = _outage_builder()
    record = b.finish()
    sc = scenario(checks="[resilience.fallback, resilience.recovery, resilience.timeout]")
    results = evaluate(CheckContext(sc, record, 10.0))
    aggregator = Aggregator()
    for event in _replay(b):
        aggregator(event)
    report = build_report(
        run_id="r1",
        status="completed",
        scenario=sc.model_dump(mode="json"),
        target="demo:naive",
        seed=1,
        scorecard=score(results),
        snapshot=aggregator.snapshot(),
    )
    assert report["schema_version"] == SCHEMA_VERSION
    verdicts = {c["id"]: c["verdict"] for c in report["checks"]}
    assert verdicts == {
        "resilience.fallback": "fail",
        "resilience.recovery": "pass",
        "resilience.timeout": "not_run",
    }
    assert report["verdict"]["ready"] is False
    assert report["verdict"]["critical_failures"] == ["resilience.fallback"]
    write_json(report, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["run_id"] == "r1"
    write_junit(report, tmp_path / "r.xml")
    suite = ET.parse(tmp_path / "r.xml").getroot()
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    assert suite.get("skipped") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["resilience.fallback"].find("failure") is not None
    assert cases["resilience.timeout"].find("skipped") is not None
    assert cases["resilience.recovery"].find("failure") is None


def test_snapshots_are_cached_but_never_stale() -> None:
    aggregator = Aggregator()
    events = _replay(_outage_builder())
    half = len(events) // 2
    for event in events[:half]:
        aggregator(event)
    first = aggregator.snapshot()
    assert aggregator.snapshot() == first  # nothing new: the same numbers
    for event in events[half:]:
        aggregator(event)
    later = aggregator.snapshot()
    phases = {p.name: p for p in later.phases}
    assert later.totals["ok"] > first.totals["ok"]
    assert phases["recovery"].outcomes["ok"] == 150
    assert sum(b.provider_calls for b in later.seconds) == later.provider_calls


def test_the_journal_stores_repeated_call_texts_once_and_reads_whole_calls(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gaplab.engine.events import ProviderCallRecorded
    from gaplab.engine.journal import JournalWriter, read_journal
    from gaplab.provider.journal import ProviderCall

    prompt = "You are Nora. " * 40
    writer = JournalWriter(tmp_path / "events.jsonl")
    calls = [
        ProviderCall(
            call_id=f"c{i}", dialect="openai", path="/v1/chat/completions", t_arrival=i,
            t_first_byte=i, t_end=i, status=200, outcome="completed", system_prompt=prompt,
            messages=({"role": "system", "content": prompt}, {"role": "user", "content": f"q{i}"}),
        )
        for i in range(50)
    ]  # fmt: skip
    for call in calls:
        writer(ProviderCallRecorded(t=call.t_end, call=call))
    writer.close()
    text = (tmp_path / "events.jsonl").read_text()
    assert text.count("You are Nora.") == 40  # the prompt once, not 100 times
    back = [e.call for e in read_journal(tmp_path / "events.jsonl")]  # type: ignore[attr-defined]
    assert back == calls
