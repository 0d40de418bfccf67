"""Open arrivals against a real HTTP server on loopback: requests start on schedule whatever
the server does, past `max_in_flight` they are dropped and counted, a briefly blocked loop
catches up without losing arrivals, every user sends the same inputs whatever the timing,
and only a reused keep-alive connection closed before any answer byte is retried."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from gaplab.engine.clock import MonotonicClock
from gaplab.engine.events import ArrivalsDropped, Event, UserRequestFinished
from gaplab.load.arrival_plan import ArrivalPlan
from gaplab.load.arrivals import OpenArrivals
from gaplab.load.generator import LoadGenerator
from gaplab.load.inputs import InputMix
from gaplab.scenario.load_models import InputMix as InputSpec
from gaplab.scenario.load_models import LoadSpec, QuestionsOptions
from gaplab.scenario.target_models import TargetFile


@dataclass
class Server:
    url: str
    delay: float = 0.0
    seen: list[tuple[float, str, str]] = field(default_factory=list)  # (time, user, input)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server("")

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        state.seen.append((time.monotonic(), body["user"], body["q"]))
        if state.delay:
            await asyncio.sleep(state.delay)
        return web.json_response({"answer": "fine"})

    app = web.Application()
    app.router.add_post("/chat", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def _generator(server: Server, load: LoadSpec, events: list[Event], **kw: object) -> LoadGenerator:
    target = TargetFile.model_validate(
        {
            "name": "local",
            "request": {
                "url": server.url + "/chat",
                "json": {"q": "{input}", "user": "{user}"},
            },
        }
    )
    return LoadGenerator(
        target=target,
        names={},
        base_url=server.url,
        load=load,
        seed=5,
        clock=MonotonicClock(),
        publish=events.append,
        current_phase=lambda: "only",
        sla=10,
        **kw,  # type: ignore[arg-type]
    )


def _requests(events: list[Event]) -> list[UserRequestFinished]:
    return [e for e in events if isinstance(e, UserRequestFinished)]


async def test_arrivals_keep_their_rate_when_the_server_slows_down(server: Server) -> None:
    server.delay = 0.5  # a closed crowd of 5 would fall to 10/s; arrivals stay at 40/s
    events: list[Event] = []
    slips: list[float] = []
    load = LoadSpec(arrival=40, users=5, max_in_flight=1000)
    generator = _generator(server, load, events, on_slip=slips.append)
    await generator.start(0)
    await asyncio.sleep(2.0)
    await generator.stop()
    counts = generator.counts()
    assert counts is not None
    assert 78 <= counts.planned <= 82  # 40/s for 2 s, the first at 0
    assert counts.started == counts.planned and counts.dropped == counts.missed == 0
    starts = sorted(t for t, _, _ in server.seen)
    assert 0.9 * 40 <= sum(1 for t in starts if t < starts[0] + 1) <= 1.1 * 40
    # one slip per request that began (the last one may be cancelled before it runs)
    assert counts.started - 1 <= len(slips) <= counts.started and max(slips) < 0.1


async def test_arrivals_past_max_in_flight_are_dropped_and_counted(server: Server) -> None:
    server.delay = 1.0
    events: list[Event] = []
    load = LoadSpec(arrival=50, users=10, max_in_flight=10)
    generator = _generator(server, load, events)
    await generator.start(0)
    await asyncio.sleep(2.5)
    await generator.stop()
    counts = generator.counts()
    assert counts is not None
    # 10 start at once, answer after 1 s, 10 more start, ...: ~30 of ~125 in 2.5 s
    assert 20 <= counts.started <= 40
    assert counts.started + counts.dropped == counts.planned
    dropped = [e for e in events if isinstance(e, ArrivalsDropped)]
    assert sum(e.count for e in dropped) == counts.dropped > 60
    assert {e.phase for e in dropped} == {"only"}
    assert len(dropped) <= 4  # batched, about one a second


async def test_a_briefly_blocked_loop_catches_up_without_losing_arrivals(server: Server) -> None:
    events: list[Event] = []
    slips: list[float] = []
    load = LoadSpec(arrival=20, users=4)
    generator = _generator(server, load, events, on_slip=slips.append)
    await generator.start(0)
    await asyncio.sleep(0.5)
    time.sleep(0.6)  # noqa: ASYNC251  (on purpose: the loop is stuck while 12 fall due)
    await asyncio.sleep(0.5)
    await generator.stop()
    counts = generator.counts()
    assert counts is not None
    assert counts.missed == 0 and counts.started == counts.planned
    assert 30 <= counts.planned <= 34  # nothing lost: 20/s for 1.6 s
    assert max(slips) > 0.4  # the catch-up burst started late, and said so


async def test_every_user_sends_the_same_inputs_whatever_the_rate(server: Server) -> None:
    sequences = []
    for rate in (60, 15):
        server.seen.clear()
        generator = _generator(server, LoadSpec(arrival=rate, users=3), [])
        await generator.start(0)
        await asyncio.sleep(1.0)
        await generator.stop()
        per_user: dict[str, list[str]] = defaultdict(list)
        for _, user, given in sorted(server.seen):
            per_user[user].append(given)
        sequences.append(per_user)
    fast, slow = sequences
    assert set(fast) == set(slow) == {"user-0000", "user-0001", "user-0002"}
    for user, inputs in slow.items():
        assert len(inputs) >= 4 and fast[user][: len(inputs)] == inputs
    assert fast["user-0000"][:4] != fast["user-0001"][:4]


async def test_arrivals_further_behind_than_the_bound_are_missed_not_burst(server: Server) -> None:
    events: list[Event] = []
    generator = _generator(server, LoadSpec(arrival=20, users=4), events)
    client = generator.client
    client.open()
    arrivals = OpenArrivals(
        client,
        InputMix(InputSpec(questions=QuestionsOptions()), 5),
        ArrivalPlan.build(LoadSpec(arrival=20), [(10, None)]),
        users=4,
        max_in_flight=100,
        clock=client.clock,
        publish=events.append,
        current_phase=lambda: "only",
        max_behind=0.3,
    )
    arrivals.start(client.clock.now())
    await asyncio.sleep(0.3)
    time.sleep(1.0)  # noqa: ASYNC251  (on purpose: 20 arrivals fall due, most > 0.3 s ago)
    await asyncio.sleep(0.3)
    await arrivals.stop()
    await client.close()
    counts = arrivals.counts
    assert 12 <= counts.missed <= 16  # those due more than 0.3 s before the loop woke
    assert counts.started + counts.missed == counts.planned


async def _raw_server(answer_first_only: bool) -> tuple[asyncio.Server, str]:
    """HTTP/1.1 by hand: answer the first request of each connection and close it on the
    second without a byte (a target that dropped an idle keep-alive connection just as
    the client reused it), or, with `answer_first_only=False`, close on the first."""
    body = b'{"answer": "fine"}'
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                if served >= (1 if answer_first_only else 0):
                    break
                writer.write(answer)
                served += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("answer_first_only", [True, False])
async def test_only_a_reused_connection_closed_before_any_answer_is_retried(
    answer_first_only: bool,
) -> None:
    server, url = await _raw_server(answer_first_only)
    events: list[Event] = []
    generator = _generator(Server(url), LoadSpec(users=2, think=0.05), events)
    await generator.start(2)
    await asyncio.sleep(1.0)
    await generator.stop()
    server.close()
    outcomes = {r.outcome for r in _requests(events)}
    if answer_first_only:  # every reuse met a closed connection: retried on a new one
        assert outcomes == {"ok"} and generator.stale_retries >= 10
    else:  # a new connection that dies is the target's failure, never retried
        assert outcomes == {"error"} and generator.stale_retries == 0
        assert {r.detail.split(":")[0] for r in _requests(events)} == {"ServerDisconnectedError"}
