"""The request client every virtual user shares: one aiohttp session, the target's request
template (and its opt-out variant), classification, and one `UserRequestFinished` per
exchange. Closed users (`gaplab.load.closed`) and open arrivals (`gaplab.load.arrivals`)
differ only in *when* they call `ask`.

Client choice, measured (DESIGN.md, bench/load.py): an aiohttp ClientSession with an
unlimited connector did ~8,900 requests/s at 50 concurrent users on this class of machine
where httpx 0.28 collapsed to ~176, so aiohttp is the load client. Requests still unanswered
when the run stops are published as errors if they already outlasted the SLA, so a hang is
never lost from the evidence. Connection failures are counted per phase, so the engine can
tell a target that is not running from one that fails.
"""

from __future__ import annotations

import math
import random
import weakref
from collections.abc import Callable, Coroutine, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection
from aiohttp.tracing import Trace

from gaplab.engine.clock import Clock
from gaplab.engine.events import Event, UserRequestFinished
from gaplab.load.inputs import UserInput
from gaplab.load.stream import Observer, StreamRead, is_stream, read_stream
from gaplab.scenario.target_models import TargetFile
from gaplab.target.classify import Verdict, classify, classify_stream
from gaplab.target.template import RequestTemplate, deep_merge, render
from gaplab.target.unsafe import UnsafeDetector


@dataclass
class InFlight:
    request_id: str
    user: str
    phase: str
    started: float
    endpoint: str
    given: UserInput | None = None
    opted_out: bool = False

    def finished(
        self, now: float, verdict: Verdict, status: int, stream: StreamRead | None = None
    ) -> UserRequestFinished:
        given = self.given
        # Built field by field into the instance dict: the frozen dataclass __init__ sets
        # its 18 fields one object.__setattr__ at a time, about 2 us on the hottest path of
        # the load generator (tests/unit check both ways build equal events).
        event: UserRequestFinished = _new(UserRequestFinished)
        event.__dict__.update(
            t=now,
            request_id=self.request_id,
            user=self.user,
            phase=self.phase,
            started=self.started,
            latency=round(now - self.started, 6),  # the clock counts microseconds
            outcome=verdict.outcome,
            status=status,
            detail=verdict.detail,
            endpoint=self.endpoint,
            input_kind=given.kind if given is not None else "questions",
            reference=given.reference if given is not None else "",
            payload=given.payload if given is not None else "",
            planted=tuple((p.kind, p.value) for p in given.planted)
            if given is not None and given.planted
            else (),
            opted_out=self.opted_out,
            excerpt=verdict.excerpt,
            disclosed=verdict.disclosed,
            conversation=given.conversation if given is not None else "",
            turn=given.turn if given is not None else 0,
            input_tokens=given.tokens if given is not None else 0,
            ttfb=None if stream is None else stream.ttfb,
            stream_end="" if stream is None else stream.end,
            chunks=0 if stream is None else stream.chunks,
        )
        return event


_new = object.__new__


Judge = Callable[[InFlight, int, bytes, Mapping[str, str]], Verdict]


def judge_non_ai(
    flight: InFlight, status: int, payload: bytes, headers: Mapping[str, str]
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


def request_templates(
    target: TargetFile, run: Mapping[str, str]
) -> tuple[RequestTemplate, RequestTemplate]:
    """The target's request template and its opt-out variant, with the run's names (port,
    provider URLs) filled in once; a request then fills only its own (input, user, request
    id, conversation)."""
    request = target.request
    headers = dict(request.headers)
    if request.json_body is not None and not any(key.lower() == "content-type" for key in headers):
        headers["Content-Type"] = "application/json"
    names = dict(run)
    template = RequestTemplate(
        render(request.url, names), render(headers, names), render(request.json_body, names)
    )
    if request.opt_out is None:
        return template, template
    return template, RequestTemplate(
        render(request.url, names),
        render({**headers, **request.opt_out.headers}, names),
        render(deep_merge(request.json_body, request.opt_out.json_fields), names),
    )


def request_names(user: str, request_id: str, given: UserInput) -> dict[str, str]:
    """The names one AI request fills into the template."""
    return {
        "input": given.text,
        "user": user,
        "request_id": request_id,
        "conversation": given.conversation,  # empty outside a conversation
    }


@dataclass
class Connections:
    """Exchanges of one phase that finished, and how many of them never connected."""

    finished: int = 0
    failed: int = 0  # the TCP connection itself failed (refused, unreachable, DNS)
    refused: int = 0  # ... of which: connection refused
    last_failure: str = ""


# Whether the connection the current request got came from the keep-alive pool. Set by the
# connector inside the request's own task, read by `send` when the exchange fails.
_reused: ContextVar[bool] = ContextVar("gaplab_connection_reused", default=False)


class _PoolAwareConnector(aiohttp.TCPConnector):
    """A TCPConnector that tells whether each connection it hands out was reused.

    aiohttp reports reuse through request tracing, but a TraceConfig makes every request
    await a dozen trace hooks (about 20 us of the lab client's ~150 us per request, measured
    with bench/load.py); remembering the protocols already handed out costs a set lookup."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handed_out: weakref.WeakSet[ResponseHandler] = weakref.WeakSet()

    async def connect(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109
    ) -> Connection:
        connection = await super().connect(req, traces, timeout)
        protocol = connection.protocol
        reused = protocol in self._handed_out
        if not reused and protocol is not None:
            self._handed_out.add(protocol)
        _reused.set(reused)
        return connection


@dataclass
class RequestClient:
    target: TargetFile
    names: dict[str, str]
    clock: Clock
    publish: Callable[[Event], None]
    patience: float
    opted_out: frozenset[int] = frozenset()
    detector: UnsafeDetector | None = None
    in_flight: dict[str, InFlight] = field(default_factory=dict)
    connections: dict[str, Connections] = field(default_factory=dict)
    stale_retries: int = 0  # keep-alive races retried (see exchange)
    observe: Observer | None = None  # sees each streamed event's data (bench/load.py)

    def __post_init__(self) -> None:
        self._template, self._opt_out_template = request_templates(self.target, self.names)
        self._session: aiohttp.ClientSession | None = None
        self._fresh: aiohttp.ClientSession | None = None  # retries of stale connections

    def open(self) -> None:
        # A short keep-alive: a pooled connection the target has already closed would
        # otherwise show up as a spurious "connection reset" against the target.
        # Exact: past `ceil_threshold` (5 s by default) aiohttp rounds a deadline up to the
        # loop clock's next whole second, so a 6 s patience gave up after 6 to 7 s.
        timeout = aiohttp.ClientTimeout(total=self.patience, ceil_threshold=math.inf)
        self._session = aiohttp.ClientSession(
            connector=_PoolAwareConnector(limit=0, keepalive_timeout=1.0),
            timeout=timeout,
            auto_decompress=True,
        )
        self._fresh = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=True), timeout=timeout
        )

    def ask(
        self, index: int, user: str, request_id: str, given: UserInput, phase: str
    ) -> Coroutine[Any, Any, float]:
        """Send one AI request for user `index`; the awaitable ends when it finished.
        (A plain function handing back `exchange`: one coroutine frame less to resume at
        every step of every request.)"""
        names = request_names(user, request_id, given)
        spec = self.target.request
        opted_out = index in self.opted_out
        template = self._opt_out_template if opted_out else self._template
        headers = template.headers(names)
        headers[spec.correlation_header] = request_id
        flight = InFlight(request_id, user, phase, self.clock.now(), "ai", given, opted_out)
        # Bytes, not str: aiohttp's str payload re-detects its encoding on every request.
        data = template.body_bytes(names)
        return self.exchange(flight, spec.method, template.url(names), headers, data, self.judge_ai)

    def judge_ai(
        self, flight: InFlight, status: int, payload: bytes, headers: Mapping[str, str]
    ) -> Verdict:
        return classify(
            status,
            payload,
            headers,
            self.target.response,
            self.detector,
            flight.given,
            flight.request_id,
        )

    def judge_stream(
        self, flight: InFlight, streamed: StreamRead, headers: Mapping[str, str]
    ) -> Verdict:
        return classify_stream(
            streamed,
            headers,
            self.target.response,
            self.patience,
            self.detector,
            flight.given,
            flight.request_id,
        )

    async def exchange(
        self,
        flight: InFlight,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | str | None,
        judge: Judge,
    ) -> float:
        """Send one request, judge the answer, publish it; returns when it finished.

        A request whose reused keep-alive connection turns out to have been closed by the
        target before any byte of the answer is sent once more on a new connection (what
        browsers and HTTP clients do too): that race is the client's, not the target's
        failure."""
        assert self._session is not None
        self.in_flight[flight.request_id] = flight
        connections = self.connections.get(flight.phase)
        if connections is None:
            connections = self.connections[flight.phase] = Connections()
        _reused.set(False)
        answered = False
        streamed: StreamRead | None = None
        stream_spec = self.target.response.stream if flight.endpoint == "ai" else None
        try:
            try:
                async with self._session.request(
                    method, url, headers=headers, data=data
                ) as response:
                    answered = True
                    status = response.status
                    response_headers: Mapping[str, str] = response.headers
                    if stream_spec is not None and is_stream(response, stream_spec):
                        streamed = await read_stream(
                            response, stream_spec, self.clock, flight.started, self.observe
                        )
                        payload = b""
                    else:
                        payload = await response.read()
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                if answered or not _reused.get():
                    raise
                status, payload, response_headers = await self._resend(method, url, headers, data)
            if streamed is not None:
                verdict = self.judge_stream(flight, streamed, response_headers)
            else:
                verdict = judge(flight, status, payload, response_headers)
        except TimeoutError:
            status, verdict = 0, Verdict("error", f"no answer within {self.patience:g}s")
        except aiohttp.ClientError as exc:
            status = 0
            verdict = Verdict("error", f"{exc.__class__.__name__}: {exc}"[:200])
            if isinstance(exc, aiohttp.ClientConnectorError):
                connections.failed += 1
                connections.refused += isinstance(exc.os_error, ConnectionRefusedError)
                connections.last_failure = verdict.detail
        finally:
            self.in_flight.pop(flight.request_id, None)
        connections.finished += 1
        now = self.clock.now()
        self.publish(flight.finished(now, verdict, status, streamed))
        return now

    async def _resend(
        self, method: str, url: str, headers: dict[str, str], data: bytes | str | None
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """The stale keep-alive retry: on a new connection, never on another pooled one."""
        assert self._fresh is not None
        self.stale_retries += 1
        async with self._fresh.request(method, url, headers=headers, data=data) as response:
            return response.status, await response.read(), response.headers

    def pending(self) -> list[InFlight]:
        """The requests in flight now, oldest first. Take this before cancelling the users:
        a cancelled request removes itself from the table."""
        return sorted(self.in_flight.values(), key=lambda f: f.started)

    def abandon(self, pending: list[InFlight], now: float, sla: float) -> None:
        """Publish the `pending` requests that already outlasted the SLA at `now` (a hang
        must reach the evidence), then forget every request in flight."""
        for flight in pending:
            if now - flight.started > sla:
                unanswered = Verdict("error", "no answer by the end of the run")
                self.publish(flight.finished(now, unanswered, 0))
        self.in_flight.clear()

    async def close(self) -> None:
        for session in (self._session, self._fresh):
            if session is not None:
                await session.close()
        self._session = self._fresh = None
