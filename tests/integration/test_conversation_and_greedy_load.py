"""Conversation sessions and the greedy user against a real HTTP server on loopback: every
request carries `{conversation}` (the session id, or empty), turns of a session are one
user's consecutive requests and are reported with their turn number; the greedy user keeps
its sessions in flight, far above the others, only in its phases."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from gaplab.engine.clock import MonotonicClock
from gaplab.engine.events import Event, UserRequestFinished
from gaplab.load.generator import LoadGenerator
from gaplab.load.greedy import GREEDY_USER
from gaplab.scenario.load_models import LoadSpec
from gaplab.scenario.target_models import TargetFile


@dataclass
class Server:
    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    in_flight: Counter[str] = field(default_factory=Counter)
    peak: Counter[str] = field(default_factory=Counter)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        state.bodies.append(body)
        user = body["user"]
        state.in_flight[user] += 1
        state.peak[user] = max(state.peak[user], state.in_flight[user])
        await asyncio.sleep(0.02)
        state.in_flight[user] -= 1
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


def generator(
    server: Server, load: LoadSpec, events: list[Event], phase: list[str]
) -> LoadGenerator:
    target = TargetFile.model_validate(
        {
            "name": "local",
            "request": {
                "url": server.url + "/chat",
                "json": {"q": "{input}", "user": "{user}", "conversation_id": "{conversation}"},
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
        current_phase=lambda: phase[0],
        sla=10,
    )


async def test_turns_carry_their_conversation_and_single_requests_an_empty_one(
    server: Server,
) -> None:
    load = LoadSpec.model_validate(
        {"users": 3, "think": 0, "inputs": {"questions": 1, "conversation": {"turns": 5}}}
    )
    events: list[Event] = []
    lab = generator(server, load, events, ["p"])
    await lab.start(3)
    await asyncio.sleep(1.0)
    await lab.stop()
    requests = [e for e in events if isinstance(e, UserRequestFinished)]
    assert len(requests) > 30 and all(r.outcome == "ok" for r in requests)
    sent = {b["q"]: b["conversation_id"] for b in server.bodies}
    by_user: dict[str, list[UserRequestFinished]] = defaultdict(list)
    for request in sorted(requests, key=lambda r: r.request_id):
        by_user[request.user].append(request)
        if request.input_kind == "conversation":
            assert request.conversation.startswith("conv-") and request.turn >= 1
        else:
            assert (request.conversation, request.turn) == ("", 0)
    for body in server.bodies:  # what reached the target: the id, or an empty string
        assert ("conversation_id" in body) and isinstance(body["conversation_id"], str)
    assert "" in sent.values() and any(v for v in sent.values())
    sessions = 0
    for user_requests in by_user.values():
        turns = [(r.conversation, r.turn) for r in user_requests if r.conversation]
        # Each session's turns follow one another: 1, 2, 3, 4, 5 with one id, no gaps.
        for index, (conversation, turn) in enumerate(turns):
            if turn == 1:
                sessions += 1
                following = turns[index : index + 5]
                if len(following) == 5:
                    assert [t for _, t in following] == [1, 2, 3, 4, 5]
                    assert {c for c, _ in following} == {conversation}
    assert sessions >= 3


async def test_the_greedy_user_keeps_its_sessions_in_flight_only_in_its_phases(
    server: Server,
) -> None:
    load = LoadSpec.model_validate(
        {
            "users": 2,
            "think": 0.2,
            "greedy": {"sessions": 6, "think": 0, "phases": ["burst"]},
        }
    )
    events: list[Event] = []
    phase = ["calm"]
    lab = generator(server, load, events, phase)
    await lab.start(2)
    await asyncio.sleep(0.6)
    calm = Counter(b["user"] for b in server.bodies)
    phase[0] = "burst"
    await asyncio.sleep(1.0)
    await lab.stop()
    assert calm[GREEDY_USER] == 0  # not in its phase: it waited
    requests = [e for e in events if isinstance(e, UserRequestFinished)]
    greedy = [r for r in requests if r.user == GREEDY_USER]
    others = Counter(r.user for r in requests if r.user != GREEDY_USER)
    assert greedy and all(r.phase == "burst" for r in greedy)
    assert server.peak[GREEDY_USER] == 6  # six requests in flight at once
    assert len(greedy) > 5 * max(others.values())  # far above any other user
    assert len({r.request_id for r in greedy}) == len(greedy)
    assert len({r.reference for r in greedy}) == len(greedy)  # each joins to its own calls
