"""Closed-model virtual users: each sends a request, waits for the answer, thinks, repeats.

The crowd slows down when the target does, which hides retry storms (docs/concepts.md);
use it for latency and capacity questions ("20 people at their desks"), and open arrivals
(`gaplab.load.arrivals`) for what production traffic does during an incident.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from gaplab.load.client import RequestClient
from gaplab.load.inputs import InputMix


class ClosedUsers:
    def __init__(
        self,
        client: RequestClient,
        mix: InputMix,
        *,
        think: float,
        ramp: float,
        current_phase: Callable[[], str],
    ) -> None:
        self._client = client
        self._mix = mix
        self._think = think
        self._ramp = ramp
        self._phase = current_phase
        self._users: dict[int, asyncio.Task[None]] = {}
        self._active = 0

    def set_users(self, users: int) -> None:
        """Grow or shrink the crowd; users past the new count leave after their request."""
        self._active = users
        ramp_step = self._ramp / users if users and self._ramp else 0.0
        for index in range(users):
            task = self._users.get(index)
            if task is None or task.done():
                self._users[index] = asyncio.create_task(self._user(index, index * ramp_step))

    @property
    def users(self) -> int:
        return sum(1 for i, t in self._users.items() if i < self._active and not t.done())

    async def _user(self, index: int, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        stream = self._mix.stream(index)
        user = f"user-{index:04d}"
        sequence = 0
        while index < self._active:
            sequence += 1
            request_id = f"{user}-{sequence:06d}"
            await self._client.ask(index, user, request_id, stream.next(), self._phase())
            if self._think:
                await asyncio.sleep(self._think)

    async def stop(self) -> None:
        self._active = 0
        tasks = list(self._users.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
