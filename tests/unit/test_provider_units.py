"""Unit tests of the provider's pure parts: profiles, schedule, journal view, tokens, faults."""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path

import pytest

from gaplab.errors import InputError
from gaplab.provider.faults import FaultMatch, ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.profiles import bundled_profile_names, load_profile
from gaplab.provider.recorder import JournalView
from gaplab.provider.schedule import CallFacts, FaultSchedule
from gaplab.provider.tokens import count_tokens, pieces


def test_bundled_openai_profile_resolves_aliases() -> None:
    profile = load_profile("openai")
    assert "openai" in bundled_profile_names()
    assert profile.dialect == "openai"
    assert profile.default.id == "gpt-4o-mini-2024-07-18"
    spec = profile.find_model("gpt-4o")
    assert spec is not None and spec.id == "gpt-4o-2024-08-06"
    assert spec.cost(1_000_000, 1_000_000) == pytest.approx(12.5)


def test_bad_profile_file_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text(
        "version: 1\nname: mine\ndialect: openai\nmodels:\n  - id: m1\n    context_windw: 10\n"
    )
    with pytest.raises(InputError) as caught:
        load_profile(bad)
    assert f"{bad}:6:5: models[0].context_windw: unknown field" in str(caught.value)


def test_unknown_profile_name_lists_bundled_ones() -> None:
    with pytest.raises(InputError, match=r"no such provider profile.*openai"):
        load_profile("nope")


def test_schedule_first_every_and_match() -> None:
    schedule = FaultSchedule(seed=1)
    schedule.replace(
        [
            ProviderFault(error=500, first=2),
            ProviderFault(latency=1, every=2, match=FaultMatch(user="u1")),
        ],
        now=0,
    )
    facts = [CallFacts("openai", "m", user) for user in ["u1", "u2", "u1", "u1"]]
    fired = [[f.describe() for f in schedule.firing(f, now=1)] for f in facts]
    assert fired == [
        ["provider: error 500 [first 2 calls]"],
        ["provider: error 500 [first 2 calls]"],
        ["provider: latency 1s [match user 'u1', every 2nd call]"],
        [],
    ]
    assert schedule.counters() == [{"matched": 4, "fired": 2}, {"matched": 3, "fired": 1}]


def test_schedule_after_delays_a_fault() -> None:
    schedule = FaultSchedule(seed=1)
    schedule.replace([ProviderFault(error=503, after=5)], now=10)
    facts = CallFacts("openai", "m", None)
    assert schedule.firing(facts, now=14.9) == []
    assert len(schedule.firing(facts, now=15.0)) == 1


def test_fault_slowness_and_outage() -> None:
    assert ProviderFault(hang=True).slowness == math.inf
    assert ProviderFault(latency=2, jitter=0.5).slowness == 2
    assert ProviderFault(error=503).slowness == 0
    assert ProviderFault(error=503).is_outage and not ProviderFault(latency=2).is_outage


def _call(index: int) -> ProviderCall:
    return ProviderCall(
        call_id=f"c{index}",
        dialect="openai",
        path="/v1/chat/completions",
        t_arrival=index,
        t_first_byte=None,
        t_end=index,
        status=200,
        outcome="completed",
    )


def test_journal_view_is_bounded_and_pages_with_a_cursor() -> None:
    seen: list[str] = []
    journal = JournalView(capacity=3, on_call=lambda c: seen.append(c.call_id))
    for index in range(5):
        journal.append(_call(index))
    assert journal.total == 5 and len(journal) == 3 and len(seen) == 5
    page = journal.since(0)
    assert [c.call_id for c in page.calls] == ["c2", "c3", "c4"]
    assert (page.next, page.dropped) == (5, 2)
    page = journal.since(3, limit=1)
    assert [c.call_id for c in page.calls] == ["c3"] and page.next == 4
    assert journal.since(5).calls == []


def test_a_failing_listener_does_not_stop_recording() -> None:
    def broken(_: ProviderCall) -> None:
        raise RuntimeError("listener bug")

    journal = JournalView(on_call=broken)
    journal.append(_call(1))
    assert journal.total == 1


def test_token_pieces_round_trip_and_count() -> None:
    text = "Hello, world! It's 2024-07-18 and internationalization matters."
    assert "".join(pieces(text)) == text
    assert count_tokens("") == 0
    assert count_tokens("hello") == 1
    assert count_tokens("internationalization") >= 3


def test_spilled_journal_keeps_memory_bounded_and_history_readable(tmp_path: Path) -> None:
    journal = JournalView(capacity=100, spill_path=tmp_path / "calls.jsonl")
    for index in range(5000):
        journal.append(_call(index))
    assert len(journal) == 100 and journal.total == 5000
    page = journal.since(1500, limit=3)
    assert [c.call_id for c in page.calls] == ["c1500", "c1501", "c1502"]
    assert (page.next, page.dropped) == (1503, 0)
    page = journal.since(4890, limit=20)  # straddles the spill file and the memory window
    assert [c.call_id for c in page.calls] == [f"c{i}" for i in range(4890, 4910)]
    everything = journal.since(0)
    assert len(everything.calls) == 5000 and everything.next == 5000
    journal.close()
    lines = (tmp_path / "calls.jsonl").read_text().splitlines()
    assert len(lines) == 5000
    assert ProviderCall.from_dict(json.loads(lines[42])) == _call(42)


def test_a_closed_spilled_journal_reopens_to_append_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    journal = JournalView(capacity=10, spill_path=path)
    for index in range(30):
        journal.append(_call(index))
    journal.close()  # as a stopped provider does: every record is on disk, the file closed
    assert len(path.read_text().splitlines()) == 30
    assert not _open_in_this_process(path)
    assert [c.call_id for c in journal.since(5, limit=2).calls] == ["c5", "c6"]
    for index in range(30, 40):  # started again: appended, not truncated
        journal.append(_call(index))
    journal.close()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["call_id"] for line in lines] == [f"c{i}" for i in range(40)]
    assert [c.call_id for c in journal.since(28, limit=4).calls] == ["c28", "c29", "c30", "c31"]


def _open_in_this_process(path: Path) -> bool:
    fds = Path("/proc/self/fd")
    if not fds.exists():
        pytest.skip("reads /proc")
    targets = []
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):
            targets.append(os.readlink(fd))
    return str(path) in targets
