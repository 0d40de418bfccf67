"""Closed-model virtual users: each sends a request, waits for the answer, thinks, repeats.

Client choice, measured (DESIGN.md, bench/load.py): an aiohttp ClientSession with an
unlimited connector did ~8,900 requests/s at 50 concurrent users on this class of machine
where httpx 0.28 collapsed to ~176, so aiohttp is the load client; one session is shared by
every user. Each answer is classified (gaplab.target.classify) and published as a
`UserRequestFinished` event; requests still unanswered when the run stops are published as
errors if they already outlasted the SLA, so a hang is never lost from the evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace

import aiohttp

from gaplab.engine.clock import Clock
from gaplab.engine.events import Event, UserRequestFinished
from gaplab.load.inputs import InputMix, UserInput
from gaplab.scenario.models import LoadSpec
from gaplab.scenario.target_models import EndpointCall, TargetFile
from gaplab.target.classify import Verdict, classify
from gaplab.target.template import RequestTemplate, deep_merge, render
from gaplab.target.unsafe import UnsafeDetector


@dataclass
class _InFlight:
    request_id: str
    user: str
    phase: str
    started: float
    endpoint: str
    given: UserInput | None = None
    opted_out: bool = False

    def finished(self, now: float, verdict: Verdict, status: int) -> UserRequestFinished:
        given = self.given
        return UserRequestFinished(
            t=now,
            request_id=self.request_id,
            user=self.user,
            phase=self.phase,
            started=self.started,
            latency=now - self.started,
            outcome=verdict.outcome,
            status=status,
            detail=verdict.detail,
            endpoint=self.endpoint,
            input_kind=given.kind if given is not None else "questions",
            reference=given.reference if given is not None else "",
            payload=given.payload if given is not None else "",
            planted=tuple((p.kind, p.value) for p in given.planted) if given is not None else (),
            opted_out=self.opted_out,
            excerpt=verdict.excerpt,
            disclosed=verdict.disclosed,
        )


_Judge = Callable[[_InFlight, int, bytes, Mapping[str, str]], Verdict]


def _judge_non_ai(
    flight: _InFlight, status: int, payload: bytes, headers: Mapping[str, str]
) -> Verdict:
    """A non-AI endpoint is fine when it answers below 400; its body is not inspected."""
    return Verdict("ok", "") if status < 400 else Verdict("error", f"HTTP {status}")


def opted_out_users(seed: int, users: int, share: float) -> frozenset[int]:
    """Which user indices opted out of AI processing: `share` of them (at least one when
    the share is above 0), picked by the seed."""
    if share <= 0 or users <= 0:
        return frozenset()
    count = max(1, round(share * users))
    return frozenset(random.Random(f"{seed}:opt-out").sample(range(users), min(count, users)))


async def _mark_reused(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceConnectionReuseconnParams,
) -> None:
    context.trace_request_ctx["reused"] = True


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
    ) -> None:
        self._target = target
        self._names = names
        self._base_url = base_url.rstrip("/")
        self._load = load
        self._seed = seed
        self._clock = clock
        self._publish = publish
        self._phase = current_phase
        self._sla = sla
        self._detector = detector
        self._mix = InputMix(load.inputs, seed)
        self._opted_out = opted_out_users(seed, load.users, load.opt_out)
        self._session: aiohttp.ClientSession | None = None
        self._fresh: aiohttp.ClientSession | None = None  # retries of stale connections
        self._users: dict[int, asyncio.Task[None]] = {}
        self._probes: list[asyncio.Task[None]] = []
        self._active = 0
        self._in_flight: dict[str, _InFlight] = {}
        self.stale_retries = 0  # keep-alive races retried (see _send)
        request = target.request
        headers = dict(request.headers)
        if request.json_body is not None and not any(
            key.lower() == "content-type" for key in headers
        ):
            headers["Content-Type"] = "application/json"
        self._template = RequestTemplate(request.url, headers, request.json_body)
        self._opt_out_template = self._template
        if request.opt_out is not None:
            self._opt_out_template = RequestTemplate(
                request.url,
                {**headers, **request.opt_out.headers},
                deep_merge(request.json_body, request.opt_out.json_fields),
            )

    async def start(self, users: int) -> None:
        # A short keep-alive: a pooled connection the target has already closed would
        # otherwise show up as a spurious "connection reset" against the target.
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=1.0)
        tracing = aiohttp.TraceConfig()
        tracing.on_connection_reuseconn.append(_mark_reused)
        self._session = aiohttp.ClientSession(
            connector=connector,
            trace_configs=[tracing],
            timeout=aiohttp.ClientTimeout(total=self._load.patience),
            auto_decompress=True,
        )
        self._fresh = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=True),
            timeout=aiohttp.ClientTimeout(total=self._load.patience),
        )
        for endpoint in self._target.non_ai_endpoints:
            self._probes.append(asyncio.create_task(self._probe(endpoint)))
        self.set_users(users)

    def set_users(self, users: int) -> None:
        """Grow or shrink the crowd; users past the new count leave after their request."""
        self._active = users
        ramp_step = self._load.ramp / users if users and self._load.ramp else 0.0
        for index in range(users):
            task = self._users.get(index)
            if task is None or task.done():
                delay = index * ramp_step
                self._users[index] = asyncio.create_task(self._user(index, delay))

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
            await self._ask(index, user, f"{user}-{sequence:06d}", stream.next())
            if self._load.think:
                await asyncio.sleep(self._load.think)

    async def _ask(self, index: int, user: str, request_id: str, given: UserInput) -> None:
        assert self._session is not None
        names = {**self._names, "input": given.text, "user": user, "request_id": request_id}
        spec = self._target.request
        opted_out = index in self._opted_out
        template = self._opt_out_template if opted_out else self._template
        url = template.url(names)
        headers = template.headers(names)
        headers[spec.correlation_header] = request_id
        data = template.body(names)
        flight = _InFlight(
            request_id, user, self._phase(), self._clock.now(), "ai", given, opted_out
        )
        await self._exchange(flight, spec.method, url, headers, data, self._judge_ai)

    def _judge_ai(
        self, flight: _InFlight, status: int, payload: bytes, headers: Mapping[str, str]
    ) -> Verdict:
        return classify(
            status,
            payload,
            headers,
            self._target.response,
            self._detector,
            flight.given,
            flight.request_id,
        )

    async def _exchange(
        self,
        flight: _InFlight,
        method: str,
        url: str,
        headers: dict[str, str],
        data: str | None,
        judge: _Judge,
    ) -> float:
        """Send one request, judge the answer, publish it; returns when it finished."""
        self._in_flight[flight.request_id] = flight
        try:
            status, payload, response_headers = await self._send(method, url, headers, data)
            verdict = judge(flight, status, payload, response_headers)
        except TimeoutError:
            status, verdict = 0, Verdict("error", f"no answer within {self._load.patience:g}s")
        except aiohttp.ClientError as exc:
            status = 0
            verdict = Verdict("error", f"{exc.__class__.__name__}: {exc}"[:200])
        finally:
            self._in_flight.pop(flight.request_id, None)
        now = self._clock.now()
        self._publish(flight.finished(now, verdict, status))
        return now

    async def _send(
        self, method: str, url: str, headers: dict[str, str], data: str | None
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """One HTTP exchange, retried once when a reused keep-alive connection turns out to
        have been closed by the target before any byte of the answer (what browsers and
        HTTP clients do too): that race is the client's, not the target's failure."""
        assert self._session is not None and self._fresh is not None
        trace: dict[str, bool] = {"reused": False}
        answered = False
        try:
            async with self._session.request(
                method, url, headers=headers, data=data, trace_request_ctx=trace
            ) as response:
                answered = True
                return response.status, await response.read(), response.headers
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            if answered or not trace["reused"]:
                raise
        self.stale_retries += 1
        # The retry goes out on a new connection, never on another pooled one.
        async with self._fresh.request(method, url, headers=headers, data=data) as response:
            return response.status, await response.read(), response.headers

    async def _probe(self, endpoint: EndpointCall) -> None:
        """Poll one non-AI endpoint to see whether AI trouble spills over to it."""
        assert self._session is not None
        path = render(endpoint.path, self._names)
        url = self._base_url + path
        headers = dict(render(endpoint.headers, self._names))
        data = None
        if endpoint.json_body is not None:
            data = json.dumps(render(endpoint.json_body, self._names))
            headers.setdefault("Content-Type", "application/json")
        sequence = 0
        while True:
            sequence += 1
            request_id = f"probe-{path.strip('/').replace('/', '-')}-{sequence:06d}"
            started = self._clock.now()
            flight = _InFlight(request_id, "probe", self._phase(), started, endpoint.label)
            now = await self._exchange(flight, endpoint.method, url, headers, data, _judge_non_ai)
            await asyncio.sleep(max(0.0, self._load.non_ai_interval - (now - started)))

    async def stop(self) -> None:
        """Stop every user and probe; record requests that had already outlasted the SLA."""
        self._active = 0
        now = self._clock.now()
        # Snapshot before cancelling: a cancelled request removes itself from the table.
        pending = sorted(self._in_flight.values(), key=lambda f: f.started)
        tasks = [*self._users.values(), *self._probes]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for flight in pending:
            if now - flight.started > self._sla:
                unanswered = Verdict("error", "no answer by the end of the run")
                self._publish(flight.finished(now, unanswered, 0))
        self._in_flight.clear()
        for session in (self._session, self._fresh):
            if session is not None:
                await session.close()
        self._session = self._fresh = None
