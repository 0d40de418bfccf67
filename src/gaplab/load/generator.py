"""The load generator the engine drives: closed users or open arrivals (as the scenario's
`load:` says), the greedy user when there is one, the non-AI probes, and one shared
request client.

    generator = LoadGenerator(...)
    await generator.start(users, origin)   # origin: run clock when the timeline starts
    generator.set_users(n)                 # closed users, at each phase edge
    await generator.stop()                 # also publishes what outlasted the SLA
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from gaplab.engine.clock import Clock
from gaplab.engine.events import Event
from gaplab.load.arrival_plan import ArrivalPlan
from gaplab.load.arrivals import ArrivalCounts, OpenArrivals
from gaplab.load.client import Connections, RequestClient, opted_out_users
from gaplab.load.closed import ClosedUsers
from gaplab.load.greedy import GreedyUser
from gaplab.load.inputs import InputMix
from gaplab.load.probes import probe
from gaplab.scenario.models import LoadSpec
from gaplab.scenario.target_models import TargetFile
from gaplab.target.unsafe import UnsafeDetector


class LoadGenerator:
    def __init__(
        self,
        *,
        target: TargetFile,
        names: dict[str, str],
        base_url: str,
        load: LoadSpec,
        seed: int,
        clock: Clock,
        publish: Callable[[Event], None],
        current_phase: Callable[[], str],
        sla: float,
        detector: UnsafeDetector | None = None,
        phase_rates: Sequence[tuple[float, float | None]] = (),
        on_slip: Callable[[float], None] | None = None,
    ) -> None:
        """`phase_rates`: each phase's (duration, own `arrival` or None), for open load."""
        self._target = target
        self._names = names
        self._base_url = base_url.rstrip("/")
        self._load = load
        self._clock = clock
        self._phase = current_phase
        self._sla = sla
        self.client = RequestClient(
            target,
            names,
            clock,
            publish,
            load.patience,
            opted_out_users(seed, load.users, load.opt_out),
            detector,
        )
        mix = InputMix(load.inputs, seed)
        self._closed: ClosedUsers | None = None
        self._open: OpenArrivals | None = None
        if load.open:
            self._open = OpenArrivals(
                self.client,
                mix,
                ArrivalPlan.build(load, phase_rates),
                users=load.users,
                max_in_flight=load.max_in_flight,
                clock=clock,
                publish=publish,
                current_phase=current_phase,
                on_slip=on_slip,
            )
        else:
            self._closed = ClosedUsers(
                self.client, mix, think=load.think, ramp=load.ramp, current_phase=current_phase
            )
        self._probes: list[asyncio.Task[None]] = []
        greedy = load.greedy
        self._greedy = (
            None
            if greedy is None
            else GreedyUser(
                self.client,
                greedy,
                mix if greedy.inputs is None else InputMix(greedy.inputs, seed),
                current_phase,
            )
        )

    @property
    def open(self) -> bool:
        return self._open is not None

    async def start(self, users: int, origin: float | None = None) -> None:
        """Open the client, start the probes, and the users (closed: `users` of them) or
        the arrivals (open: from `origin`, default now)."""
        self.client.open()
        interval = self._load.non_ai_interval
        for endpoint in self._target.non_ai_endpoints:
            self._probes.append(
                asyncio.create_task(
                    probe(self.client, endpoint, self._base_url, self._names, interval, self._phase)
                )
            )
        if self._open is not None:
            self._open.start(self._clock.now() if origin is None else origin)
        else:
            self.set_users(users)
        if self._greedy is not None:
            self._greedy.start()

    def set_users(self, users: int) -> None:
        """Closed users: grow or shrink the crowd (open arrivals follow their plan)."""
        if self._closed is not None:
            self._closed.set_users(users)

    @property
    def users(self) -> int:
        return self._closed.users if self._closed is not None else 0

    @property
    def stale_retries(self) -> int:
        return self.client.stale_retries

    def counts(self) -> ArrivalCounts | None:
        """Open arrivals so far (None under closed users)."""
        return self._open.counts if self._open is not None else None

    def connections(self, phase: str) -> Connections:
        """Finished exchanges of `phase` (AI requests and probes) and their connect failures."""
        return self.client.connections.get(phase, Connections())

    async def stop(self) -> None:
        """Stop every user, arrival and probe; record requests that had already outlasted
        the SLA."""
        now = self._clock.now()
        pending = self.client.pending()  # before cancelling: cancelled ones leave the table
        if self._closed is not None:
            await self._closed.stop()
        if self._open is not None:
            await self._open.stop()
        if self._greedy is not None:
            await self._greedy.stop()
        for task in self._probes:
            task.cancel()
        for task in self._probes:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.client.abandon(pending, now, self._sla)
        await self.client.close()
