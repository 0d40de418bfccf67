"""Open arrivals split over Locust processes, without Locust: which arrivals worker w of W
takes, as which user and request id with which input (the built-in's, whatever W), how
drops keep ids unique, how `max_in_flight` is shared, and the lab's sum of the reports."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from pathlib import Path

import pytest

from gaplab.engine.clock import MonotonicClock
from gaplab.engine.events import ArrivalsDropped, Event
from gaplab.load.arrival_plan import ArrivalPlan
from gaplab.load.arrivals import ArrivalCounts
from gaplab.load.inputs import InputMix
from gaplab.locust_load import check_locust_run
from gaplab.locust_load.arrival_share import (
    ArrivalShare,
    ArrivalTally,
    arrivals_report,
    in_flight_share,
)
from gaplab.locust_load.channel import decode
from gaplab.locust_load.process import LocustLoad
from gaplab.scenario.library import load_scenario
from gaplab.scenario.load_models import LoadSpec
from gaplab.target.resolve import resolve_target

PHASES = [(2.0, None), (3.0, 60.0), (2.0, None)]  # the middle phase sets its own rate


def builtin(load: LoadSpec, count: int, dropped: frozenset[int] = frozenset()) -> dict:
    """What `OpenArrivals` sends for arrivals 0..count-1 (`dropped`: not started):
    n -> (offset, user, request id, input text)."""
    mix, plan = InputMix(load.inputs, 7), ArrivalPlan.build(load, PHASES)
    streams, sequence, sent = {}, Counter[int](), {}
    for n, offset in enumerate(itertools.islice(plan.offsets(), count)):
        if n in dropped:
            continue
        index = n % load.users
        stream = streams.setdefault(index, mix.stream(index))
        sequence[index] += 1
        user = f"user-{index:04d}"
        sent[n] = (offset, user, f"{user}-{sequence[index]:06d}", stream.next().text)
    return sent


def split(load: LoadSpec, workers: int, count: int, dropped: frozenset[int] = frozenset()):
    """What each of `workers` Locust processes sends for arrivals 0..count-1."""
    sent: dict[int, dict] = {}
    for worker in range(workers):
        share = ArrivalShare(load, PHASES, InputMix(load.inputs, 7), worker, workers)
        mine = {}
        for n, offset in share.due():
            if n >= count:
                break
            if n in dropped:
                share.skip(n)
                continue
            a = share.take(n, offset)
            mine[n] = (a.offset, a.user, a.request_id, a.given.text)
        sent[worker] = mine
    return sent


@pytest.mark.parametrize(("users", "workers"), [(50, 1), (50, 2), (6, 3), (7, 2), (3, 4)])
def test_the_workers_together_send_the_built_in_arrivals(users: int, workers: int) -> None:
    load = LoadSpec(arrival=20, users=users)
    count = 300  # past the phase whose own rate (60/s) the plan folds in
    sent = split(load, workers, count)
    for worker, mine in sent.items():
        assert all(n % workers == worker for n in mine)
        assert len(mine) in (count // workers, count // workers + 1)
    together = {n: request for mine in sent.values() for n, request in mine.items()}
    assert together == builtin(load, count)
    offsets = [offset for offset, *_ in together.values()]
    assert sum(2.0 <= o < 5.0 for o in offsets) == 180  # 60/s for 3 s


def test_a_drop_on_a_worker_that_holds_its_users_whole_is_the_built_in_drop() -> None:
    # 50 users, 2 workers: user i's arrivals all go to worker i % 2, so a dropped arrival
    # takes neither a sequence number nor an input, as under the built-in load.
    load = LoadSpec(arrival=20, users=50)
    dropped = frozenset({3, 4, 53, 120})
    sent = split(load, 2, 200, dropped)
    together = {n: request for mine in sent.values() for n, request in mine.items()}
    assert together == builtin(load, 200, dropped)
    assert together[103][2] == "user-0003-000001"  # its arrivals 3 and 53 were dropped


def test_users_spread_over_workers_keep_unique_ids_when_arrivals_drop() -> None:
    # 7 users on 2 workers: a user's arrivals alternate between them, and neither sees the
    # other's drops, so every arrival takes its place whether it was sent or not.
    load = LoadSpec(arrival=20, users=7)
    dropped = frozenset({0, 1, 9, 14, 30})
    sent = split(load, 2, 200, dropped)
    ids = [request[2] for mine in sent.values() for request in mine.values()]
    assert len(ids) == len(set(ids)) == 200 - len(dropped)
    everything = builtin(load, 200)  # the same arrivals, none dropped
    for mine in sent.values():
        for n, request in mine.items():
            assert request == everything[n]


def test_max_in_flight_is_shared_out_whole() -> None:
    assert [in_flight_share(200, w, 2) for w in range(2)] == [100, 100]
    assert [in_flight_share(10, w, 4) for w in range(4)] == [3, 3, 2, 2]
    assert sum(in_flight_share(1_001, w, 7) for w in range(7)) == 1_001
    load = LoadSpec(arrival=20, users=50, max_in_flight=5)
    shares = [ArrivalShare(load, PHASES, InputMix(load.inputs, 7), w, 2) for w in range(2)]
    assert [s.max_in_flight for s in shares] == [3, 2]


def test_the_lab_sums_the_workers_reports_and_publishes_their_drops() -> None:
    slips: list[float] = []
    tally = ArrivalTally(slips.append)
    first = arrivals_report(0, ArrivalCounts(10, 8, 2, 0, 3), {"outage": 2}, [0.001, 0.0025])
    assert tally.take(first, 4.0) == [ArrivalsDropped(t=4.0, phase="outage", count=2)]
    second = arrivals_report(1, ArrivalCounts(9, 9, 0, 0, 1), {}, [0.002])
    assert tally.take(second, 4.1) == []
    # A later report of worker 0 replaces its earlier counts (they are totals so far).
    later = arrivals_report(0, ArrivalCounts(12, 9, 2, 1, 0), {"outage": 0}, [])
    assert tally.take(later, 4.2) == []
    assert tally.counts() == ArrivalCounts(21, 18, 2, 1, 1)
    assert slips == [0.001, 0.0025, 0.002]
    assert tally.take({"worker": 0, "events": []}, 5.0) == []  # a batch is not a report


def test_open_arrivals_and_streamed_answers_are_not_refused() -> None:
    for name, interface in (("outage", None), ("stream_faults", "stream")):
        scenario, _ = load_scenario(name)
        target = resolve_target("demo:naive", interface=interface or scenario.interface)
        check_locust_run(scenario, target)  # Locust is installed here: nothing to refuse


async def test_the_lab_side_of_open_arrivals_counts_publishes_and_sends_no_users(
    tmp_path: Path,
) -> None:
    scenario, _ = load_scenario("outage")
    published: list[Event] = []
    load = LocustLoad(
        target=resolve_target("demo:naive", interface=scenario.interface),
        names={},
        base_url="http://127.0.0.1:1",
        load=scenario.load,
        seed=7,
        clock=MonotonicClock(),
        publish=published.append,
        current_phase=lambda: "outage",
        sla=10.0,
        run_dir=tmp_path,
        workers=2,
    )
    lines: list[bytes] = []

    async def take(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            lines.append(line)

    server = await asyncio.start_server(take, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, load._writer = await asyncio.open_connection("127.0.0.1", port)
    load.phase_changed()
    load.set_users(50)  # at a phase edge: open arrivals follow their plan, no users
    load._writer.close()
    await load._writer.wait_closed()
    for _ in range(100):
        if len(lines) == 2:
            break
        await asyncio.sleep(0.01)
    server.close()
    assert [decode(line) for line in lines] == [{"phase": "outage"}, {"phase": "outage"}]
    assert load.counts() == ArrivalCounts()
    for worker, counts in ((0, ArrivalCounts(10, 9, 1, 0, 2)), (1, ArrivalCounts(10, 10))):
        load._receive(arrivals_report(worker, counts, {"outage": counts.dropped}, [0.01]))
    assert load.counts() == ArrivalCounts(20, 19, 1, 0, 2)
    drops = [e for e in published if isinstance(e, ArrivalsDropped)]
    assert [(e.phase, e.count) for e in drops] == [("outage", 1)]
