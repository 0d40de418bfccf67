"""The greedy user (`load.greedy`): one user id far above everyone else's rate, the user a
per-user quota exists for (`cost.budget_enforced`).

`sessions` loops share the one user id `user-greedy` and one seeded input stream; each
sends a request, waits for its answer, pauses `think`, and sends again, so the user keeps
`sessions` requests in flight: with the defaults (8 loops, 50 ms) several times what an
ordinary user sends, and far more once the target answers it fast (a throttled user's
429s come back at once). It runs under closed users and open arrivals alike, in the
phases its spec lists (all by default); outside them the loops wait. Its inputs are the
load's, or its own `inputs`; its references come from a user index no ordinary user has,
so its requests join to their calls like anyone's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from gaplab.load.client import RequestClient
from gaplab.load.inputs import InputMix, UserStream
from gaplab.load.inputs.reference import MAX_USERS
from gaplab.scenario.load_models import GreedySpec

GREEDY_USER = "user-greedy"
GREEDY_INDEX = MAX_USERS - 1  # its references' letters: no ordinary user (≤ 10,000) has them
IDLE_POLL = 0.05  # seconds between looks at the phase while the greedy user is not active


class GreedyUser:
    def __init__(
        self,
        client: RequestClient,
        spec: GreedySpec,
        mix: InputMix,
        current_phase: Callable[[], str],
    ) -> None:
        self._client = client
        self._spec = spec
        self._stream: UserStream = mix.stream(GREEDY_INDEX)
        self._phase = current_phase
        self._sequence = 0
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop()) for _ in range(self._spec.sessions)]

    def _active(self) -> bool:
        return not self._spec.phases or self._phase() in self._spec.phases

    async def _loop(self) -> None:
        think = self._spec.think
        while True:
            if not self._active():
                await asyncio.sleep(IDLE_POLL)
                continue
            self._sequence += 1
            request_id = f"{GREEDY_USER}-{self._sequence:06d}"
            await self._client.ask(
                GREEDY_INDEX, GREEDY_USER, request_id, self._stream.next(), self._phase()
            )
            await asyncio.sleep(think)  # sleep(0) at least: a fast 429 must not starve the loop

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
