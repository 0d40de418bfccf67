"""State shared by every call of one mock provider, and the per-call log that becomes its
`ProviderCall` record: ids, clocks, seeded draws, the fault schedule, the journal.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from gaplab.engine.clock import Clock
from gaplab.provider.calls import ChatRequest, Completion
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.pacer import StreamPacer
from gaplab.provider.pacer_pool import PacerPool
from gaplab.provider.profiles import ModelSpec, ProviderProfile
from gaplab.provider.prompt_cache import PromptCache
from gaplab.provider.ratelimit import RateWindow
from gaplab.provider.recorder import JournalView
from gaplab.provider.schedule import FaultSchedule

CORRELATION_HEADERS = ("x-request-id", "x-correlation-id", "traceparent", "tracestate")


class StreamSpeller(Protocol):
    def opening(self) -> bytes: ...
    def text(self, piece: str, index: int = 0) -> bytes: ...
    def texts(self, pieces: Sequence[str], index: int = 0) -> list[bytes]: ...
    def tool_calls(self) -> bytes: ...
    def closing(self) -> bytes: ...
    def error(self, body: dict[str, Any]) -> bytes: ...
    def out_of_order(self) -> bytes: ...


class Wire(Protocol):
    """What a dialect must spell for the chat handler."""

    dialect: str
    request_id_header: str

    def parse(self, body: Any) -> ChatRequest: ...
    def error_body(
        self,
        status: int,
        message: str,
        code: str | None = None,
        param: str | None = None,
        request_id: str = "",
    ) -> dict[str, Any]: ...
    def default_message(self, status: int) -> str: ...
    def completion_body(
        self, done: Completion, request_id: str, created: int
    ) -> dict[str, Any]: ...
    def speller(
        self, done: Completion, request: ChatRequest, request_id: str, created: int
    ) -> StreamSpeller: ...


@dataclass
class CallLog:
    """The mutable record of a call in flight."""

    call_id: str
    dialect: str
    path: str
    t_arrival: float
    retry_count: int | None = None
    read_timeout: float | None = None
    user_agent: str | None = None
    correlation: dict[str, str] = field(default_factory=dict)
    t_first_byte: float | None = None
    status: int = 0
    outcome: str | None = None
    model_requested: str | None = None
    model_served: str | None = None
    stream: bool = False
    max_tokens: int | None = None
    system_prompt: str | None = None
    messages: tuple[dict[str, Any], ...] = ()
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    fault: str | None = None
    hanging: bool = False
    tools: tuple[dict[str, Any], ...] = ()
    finish_reason: str | None = None
    planted: dict[str, str] = field(default_factory=dict)
    tokens_cached: int = 0
    extra_headers: dict[str, str] = field(default_factory=dict)  # rate-limit headers
    retry_after: float | None = None  # the wait an error told the caller (seconds)

    def take_request(self, chat: ChatRequest) -> None:
        self.model_requested = chat.model
        self.stream = chat.stream
        self.max_tokens = chat.max_tokens
        self.system_prompt = chat.system_prompt
        self.messages = chat.messages
        self.tools = chat.tools
        if chat.user:
            self.correlation["user"] = chat.user
        if chat.metadata:
            for key, value in chat.metadata.items():
                self.correlation[f"metadata.{key}"] = str(value)

    def record(self, t_end: float) -> ProviderCall:
        return ProviderCall(
            call_id=self.call_id,
            dialect=self.dialect,
            path=self.path,
            t_arrival=self.t_arrival,
            t_first_byte=self.t_first_byte,
            t_end=t_end,
            status=self.status,
            outcome=self.outcome or "error",
            model_requested=self.model_requested,
            model_served=self.model_served,
            stream=self.stream,
            max_tokens=self.max_tokens,
            system_prompt=self.system_prompt,
            messages=self.messages,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            cost_usd=self.cost_usd,
            retry_count=self.retry_count,
            read_timeout=self.read_timeout,
            user_agent=self.user_agent,
            correlation=self.correlation,
            fault=self.fault,
            tools=self.tools,
            finish_reason=self.finish_reason,
            planted=self.planted,
            tokens_cached=self.tokens_cached,
            retry_after=self.retry_after,
        )


class ProviderState:
    def __init__(
        self, profile: ProviderProfile, seed: int, clock: Clock, journal: JournalView
    ) -> None:
        self.profile = profile
        self.seed = seed
        self.clock = clock
        self.journal = journal
        self.schedule = FaultSchedule(seed)
        self.active: dict[asyncio.Task[Any], CallLog] = {}
        self.stop_event = asyncio.Event()
        self.stopping = False
        self._ids = random.Random(f"ids:{seed}")
        self._draws = random.Random(f"latency:{seed}")
        self.rate_window = RateWindow(profile.rate_limits)
        self.prompt_cache = PromptCache(clock.now)
        self.pacer: StreamPacer | PacerPool = StreamPacer()

    def set_faults(self, faults: Sequence[ProviderFault], span: float | None = None) -> None:
        """Replace the active faults (`span`: how long they are meant to last, for ramps).
        A `rate_limits` fault replaces the limits it names for as long as it is active; the
        profile's come back, with a fresh window, when it goes."""
        had = self.schedule.rate_limits
        self.schedule.replace(faults, self.clock.now(), span)
        limits = self.schedule.rate_limits
        if limits is not None:
            merged = self.profile.rate_limits.model_copy(
                update=limits.model_dump(exclude_none=True)
            )
            self.rate_window = RateWindow(merged)
        elif had is not None:
            self.rate_window = RateWindow(self.profile.rate_limits)

    def begin_call(self, dialect: str, request: web.Request) -> CallLog:
        headers = request.headers
        log = CallLog(
            call_id=f"req_{self._ids.getrandbits(96):024x}",
            dialect=dialect,
            path=request.path,
            t_arrival=self.clock.now(),
            user_agent=headers.get("user-agent"),
        )
        log.retry_count = _int_or_none(headers.get("x-stainless-retry-count"))
        log.read_timeout = _float_or_none(headers.get("x-stainless-read-timeout"))
        for name in CORRELATION_HEADERS:
            if name in headers:
                log.correlation[name] = headers[name]
        return log

    def finish_call(self, log: CallLog) -> None:
        self.journal.append(log.record(self.clock.now()))

    def first_token_delay(self, spec: ModelSpec, faults: Sequence[ProviderFault]) -> float:
        latency = self.profile.latency_of(spec)
        ttft = latency.ttft_median * math.exp(latency.ttft_sigma * self._draws.gauss(0.0, 1.0))
        return min(ttft, latency.ttft_max) + self.fault_latency(faults)

    def fault_latency(self, faults: Sequence[ProviderFault]) -> float:
        total = 0.0
        for fault in faults:
            latency = fault.fixed_latency()
            if not latency:
                continue
            if fault.distribution == "lognormal":
                total += latency * math.exp(fault.sigma * self._draws.gauss(0.0, 1.0))
            else:
                jitter = fault.jitter or 0.0
                total += max(0.0, latency + self._draws.uniform(-jitter, jitter))
        return total

    def default_message(self, log: CallLog, fault: ProviderFault) -> str | None:
        """A message worded for this fault's code, or None for the dialect's default."""
        if fault.code in ("insufficient_quota", "credit_balance_exhausted"):
            return "You exceeded your current quota, please check your plan and billing details."
        if fault.error == 429:
            return (
                f"Rate limit reached for {log.model_served or 'the model'} on requests. "
                "Please try again later."
            )
        return None

    def response_headers(self, wire: Wire, log: CallLog) -> dict[str, str]:
        elapsed_ms = max(0, round((self.clock.now() - log.t_arrival) * 1000))
        headers = {wire.request_id_header: log.call_id}
        if wire.dialect == "openai":
            headers["openai-processing-ms"] = str(elapsed_ms)
            headers["openai-version"] = "2020-10-01"
            headers["openai-organization"] = "gaplab"
        headers.update(log.extra_headers)
        return headers


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
