"""The Locust side of `--load locust` against real HTTP servers on loopback, in a Locust
process of its own (gevent patches it): a streamed answer is read as the built-in client
reads it (the same ending, events and verdict for each way a stream ends), and open
arrivals keep to this process's share of `max_in_flight`, drop and report the rest."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web

from gaplab.engine.events import UserRequestFinished, event_from_dict
from gaplab.load.inputs import InputMix
from gaplab.locust_load.arrival_share import ArrivalShare
from gaplab.locust_load.plan import LocustPlan
from gaplab.scenario.load_models import LoadSpec
from gaplab.scenario.target_models import TargetFile

from .sse_server import ask_builtin, serving, sse_handler

EVENTS: dict[str, list[bytes]] = {
    "done": [b'data: {"delta": "Your order "}\n\n', b'data: {"delta": "ships Tuesday."}\n\n',
             b"data: [DONE]\n\n"],
    "crlf": [b'data: {"delta": "Fine"}\r\n\r\n', b": keep-alive\r\n\r\n", b"data: [DONE]\r\n\r\n"],
    "error": [b'data: {"delta": "Your order "}\n\n',
              b'event: error\ndata: {"error": "interrupted"}\n\n'],
    "cut": [b'data: {"delta": "Your order "}\n\n'],
    "abrupt": [b'data: {"delta": "Your order "}\n\n'],  # then the connection is dropped
    "stall": [b'data: {"delta": "Your order "}\n\n'],
    "fixed": [b'data: {"delta": "Sorry, unavailable.", "degraded": true}\n\n', b"data: [DONE]\n\n"],
}  # fmt: skip

# A Locust process's request, as `gaplab.locust_load.exchange` sends it: argv[1] is the
# plan, the rest the inputs to send; each finished request is printed as the lab gets it.
ASK = r"""
from gevent import monkey
monkey.patch_all()
import sys, time
import orjson
from locust.contrib.fasthttp import FastHttpSession
from locust.event import Events
from gaplab.load.inputs.base import UserInput
from gaplab.locust_load.exchange import Asker
from gaplab.locust_load.link import Sink
from gaplab.locust_load.plan import LocustPlan

class Printed(Sink):
    def _deliver(self, message):
        sys.stdout.write(orjson.dumps(message).decode() + "\n")

plan = LocustPlan.of(orjson.loads(sys.argv[1]))
link = Printed(plan, 0, time.monotonic())
session = FastHttpSession(base_url=plan.base_url, request_event=Events().request, user=None,
                          network_timeout=5.0, connection_timeout=5.0, max_retries=0)
asker = Asker(plan, link)
for number, kind in enumerate(sys.argv[2:]):
    asker.ask(session, "user-0000", f"r-{number}", UserInput(kind, "questions", ""), False)
link.flush()
"""

# Open arrivals of worker argv[2] of argv[3] for argv[4] seconds, as in a Locust process.
ARRIVE = r"""
from gevent import monkey
monkey.patch_all()
import sys, time
import gevent, orjson
from locust.event import Events
from gaplab.locust_load.arrive import ArrivalDriver
from gaplab.locust_load.link import Sink
from gaplab.locust_load.plan import LocustPlan

class Printed(Sink):
    def _deliver(self, message):
        sys.stdout.write(orjson.dumps(message).decode() + "\n")

class Environment:
    events = Events()

plan = LocustPlan.of(orjson.loads(sys.argv[1]))
link = Printed(plan, int(sys.argv[2]), time.monotonic())
driver = ArrivalDriver(plan, link, int(sys.argv[2]), int(sys.argv[3]), Environment())
seen = []
Environment.events.request.add_listener(lambda **request: seen.append(request["name"]))
driver.start(link.now())
flusher = gevent.spawn(link.flush_often)
gevent.sleep(float(sys.argv[4]))
driver.stop()
link.flush()
sys.stdout.write(orjson.dumps({"locust_requests": seen}).decode() + "\n")
"""


@pytest.fixture
async def server_url() -> AsyncIterator[str]:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.4)
        return web.json_response({"answer": "Your order ships Tuesday."})

    async def trickle(request: web.Request) -> web.StreamResponse:
        # A whole answer whose bytes keep coming, each well within a socket timeout.
        response = web.StreamResponse(headers={"content-type": "application/json"})
        await response.prepare(request)
        for piece in (b'{"answer": ', b'"Your order ', b"ships ", b'Tuesday."', b"}"):
            await response.write(piece)
            await asyncio.sleep(0.3)
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response

    routes = {"/trickle": trickle, "/stream": sse_handler(EVENTS), "/slow": slow}
    async with serving(routes) as url:
        yield url


def _plan(target: TargetFile, base_url: str, load: LoadSpec) -> LocustPlan:
    return LocustPlan.build(
        target=target,
        names={},
        base_url=base_url,
        load=load,
        seed=7,
        sla=10.0,
        origin=0.0,
        lab_host="127.0.0.1",
        lab_port=0,
        users=0,
        phase="p",
        phase_rates=[(30.0, None)],
    )


async def _locust(script: str, *arguments: str) -> list[dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *arguments, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0
    return [json.loads(line) for line in out.decode().splitlines()]


def _stream_target(url: str, form: str = "sse") -> TargetFile:
    return TargetFile.model_validate(
        {
            "name": "sse",
            "request": {"url": url, "json": {"message": "{input}"}},
            "response": {"stream": {"format": form}, "degraded": {"field": "$.degraded"}},
        }
    )


async def _builtin(target: TargetFile, kind: str, patience: float) -> UserRequestFinished:
    return await ask_builtin(target, kind, patience, "r-0")


async def test_a_streamed_answer_is_read_on_locust_as_the_built_in_reads_it(
    server_url: str,
) -> None:
    target = _stream_target(server_url + "/stream")
    load = LoadSpec(users=1, patience=0.6)
    kinds = list(EVENTS)
    plan = _plan(target, server_url, load)
    messages = await _locust(ASK, orjson.dumps(plan.__dict__).decode(), *kinds)
    theirs = [event_from_dict(e) for m in messages for e in m.get("events", ())]
    assert all(isinstance(e, UserRequestFinished) for e in theirs)
    assert [e.request_id for e in theirs] == [f"r-{n}" for n in range(len(kinds))]
    for kind, event in zip(kinds, theirs, strict=True):
        ours = await _builtin(target, kind, 0.6)
        same = ("outcome", "detail", "status", "stream_end", "chunks")
        assert {k: getattr(event, k) for k in same} == {k: getattr(ours, k) for k in same}, kind
        assert event.ttfb is not None and 0.04 < event.ttfb < event.latency, kind
    ended = {kind: event.stream_end for kind, event in zip(kinds, theirs, strict=True)}
    assert ended == {
        "done": "done", "crlf": "done", "error": "error_event", "cut": "cut", "abrupt": "cut",
        "stall": "stalled", "fixed": "done",
    }  # fmt: skip
    stalled = theirs[kinds.index("stall")]
    assert 0.6 <= stalled.latency < 1.5  # the user's patience, from the request's start


async def test_a_text_stream_cut_mid_way_is_cut_on_locust_too(server_url: str) -> None:
    # A text answer ends with its body: only the missing end of the chunked body tells a
    # cut (Locust's own `iter_content` would take the dropped connection for the end).
    target = _stream_target(server_url + "/stream", "text")
    plan = _plan(target, server_url, LoadSpec(users=1, patience=2))
    messages = await _locust(ASK, orjson.dumps(plan.__dict__).decode(), "done", "abrupt")
    theirs = [event_from_dict(e) for m in messages for e in m.get("events", ())]
    for kind, event in zip(("done", "abrupt"), theirs, strict=True):
        assert isinstance(event, UserRequestFinished)
        ours = await _builtin(target, kind, 2.0)
        assert (event.outcome, event.stream_end) == (ours.outcome, ours.stream_end), kind
    assert [e.stream_end for e in theirs if isinstance(e, UserRequestFinished)] == ["done", "cut"]


async def test_the_patience_bounds_a_whole_answer_as_the_built_in_does(server_url: str) -> None:
    target = TargetFile.model_validate(
        {"name": "slow", "request": {"url": server_url + "/trickle", "json": {"q": "{input}"}}}
    )
    for patience, outcome in ((0.6, "error"), (3.0, "ok")):
        plan = _plan(target, server_url, LoadSpec(users=1, patience=patience))
        messages = await _locust(ASK, orjson.dumps(plan.__dict__).decode(), "q")
        [event] = [event_from_dict(e) for m in messages for e in m.get("events", ())]
        assert isinstance(event, UserRequestFinished)
        ours = await _builtin(target, "q", patience)
        same = ("outcome", "detail", "status")
        assert {k: getattr(event, k) for k in same} == {k: getattr(ours, k) for k in same}
        assert event.outcome == outcome
        if outcome == "error":
            assert event.detail == "no answer within 0.6s" and event.latency < 1.2


async def test_open_arrivals_on_locust_keep_their_share_of_max_in_flight(
    server_url: str,
) -> None:
    target = TargetFile.model_validate(
        {"name": "slow", "request": {"url": server_url + "/slow", "json": {"q": "{input}"}}}
    )
    # 40/s against 0.4 s answers wants ~16 in flight; worker 1 of 2 may have 3 (7 // 2).
    load = LoadSpec(arrival=40, users=10, max_in_flight=7, patience=5)
    plan = _plan(target, server_url, load)
    messages = await _locust(ARRIVE, orjson.dumps(plan.__dict__).decode(), "1", "2", "1.5")
    reports = [m for m in messages if "arrivals" in m]
    events = [e for m in messages for e in m.get("events", ())]
    last = reports[-1]["arrivals"]
    assert max(r["arrivals"]["in_flight"] for r in reports) == 3
    assert last["in_flight"] == 0  # stopped: the requests in flight were abandoned
    assert 25 <= last["planned"] <= 35  # 1.5 s at 20/s (this worker's half of 40/s)
    assert last["planned"] == last["started"] + last["dropped"] + last["missed"]
    assert last["dropped"] >= 10 and last["missed"] == 0
    assert sum(sum(r["dropped"].values()) for r in reports) == last["dropped"]
    assert {p for r in reports for p in r["dropped"]} == {"p"}
    assert all(r["worker"] == 1 for r in reports)
    # The answered requests are the ones the arrival share gave this worker.
    share = ArrivalShare(load, [(30.0, None)], InputMix(load.inputs, 7), 1, 2)
    numbers = {f"user-{n % 10:04d}" for n, _ in zip(range(1, 60, 2), share.due(), strict=False)}
    assert {e["user"] for e in events} <= numbers
    assert len(events) >= 6 and all(e["outcome"] == "ok" for e in events)
    # Locust's request events fired for each answered request (its statistics count them).
    [seen] = [m["locust_requests"] for m in messages if "locust_requests" in m]
    assert seen == ["/slow"] * len(events)
    slips = [s for r in reports for s in r["slips"]]
    assert len(slips) == last["started"] and max(slips) < 0.2
