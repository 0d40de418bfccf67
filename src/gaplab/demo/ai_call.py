"""The hardened demo's AI call: time budget → retries → circuit breaker → attempt timeout.

The order is the one of Microsoft's standard resilience pipeline (total timeout, retry,
breaker, attempt timeout): the breaker counts provider calls, not user requests, and a retry
that finds it open gives up at once. Each layer is skipped when its defence is switched off;
without `timeout` the SDK's own default (600 s) is the only limit. Retries use tenacity.

One user request has one `RequestBudget`: its deadline and at most three provider calls,
shared by everything it asks (the JSON contract's second try included). `complete` returns
the provider's completion as it came (judging it is the output check's job); `open_stream`
returns an `UpstreamStream` once the provider has started answering, and only that opening
is retried: a stream that breaks later is the stream guard's business.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from openai import NOT_GIVEN, AsyncStream
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from gaplab.demo.ai_metrics import AiMetrics, Bulkhead, ShedError
from gaplab.demo.breaker import CircuitBreaker, CircuitOpenError, Permit
from gaplab.demo.options import HardenedConfig
from gaplab.demo.retry_policy import AttemptTimeoutError, RetryPolicy, is_transient

Messages = list[dict[str, str]]
T = TypeVar("T")


@dataclass
class RequestBudget:
    """What one user request may still spend upstream: provider calls, and time."""

    deadline: float | None  # on the chat's clock; None: no time budget
    calls_left: int


class UpstreamStream:
    """An opened provider stream; `close(ok)` tells the breaker how it ended."""

    def __init__(
        self,
        chunks: AsyncStream[ChatCompletionChunk],
        breaker: CircuitBreaker | None,
        permit: Permit | None,
    ) -> None:
        self.chunks = chunks
        self._breaker, self._permit = breaker, permit
        self._closed = False

    async def close(self, ok: bool) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self.chunks.close()
        finally:
            if self._breaker is not None and self._permit is not None:
                if ok:
                    self._breaker.record_success(self._permit)
                else:
                    self._breaker.record_failure(self._permit)


class ResilientChat:
    """Ask the model within the configured defences; raise when it cannot."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str,
        config: HardenedConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self.model = model
        self._config = config
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.policy = RetryPolicy(max_retries=config.max_retries)
        self.metrics: AiMetrics | None = None  # set by the pipeline (`metrics`)
        self.bulkhead: Bulkhead | None = None  # set by the pipeline (`bulkhead`)
        self.breaker: CircuitBreaker | None = None
        if config.has("breaker"):
            self.breaker = CircuitBreaker(config.threshold, config.break_duration, clock)

    def budget(self) -> RequestBudget:
        """A fresh budget for one user request."""
        seconds = self._config.budget if self._config.has("timeout") else None
        deadline = None if seconds is None else self._clock() + seconds
        return RequestBudget(deadline, calls_left=1 + self._config.max_retries)

    async def complete(
        self, messages: Messages, request_id: str, budget: RequestBudget | None = None,
        **params: Any,
    ) -> ChatCompletion:  # fmt: skip
        async def call(retry_count: int, limit: float | None) -> ChatCompletion:
            completion: ChatCompletion = await self._create(
                messages, request_id, retry_count, limit, params
            )
            return completion

        completion: ChatCompletion = await self._within(
            budget or self.budget(), call, streaming=False
        )
        return completion

    async def open_stream(
        self, messages: Messages, request_id: str, budget: RequestBudget | None = None,
        **params: Any,
    ) -> UpstreamStream:  # fmt: skip
        # The opening must come within the attempt's limit (asyncio.timeout in `_attempt`),
        # but the SDK's timeout is per read for a stream: it stays the attempt timeout, so a
        # slow but steady stream opened late in the budget is not cut between two chunks.
        read_timeout = self._config.attempt_timeout if self._config.has("timeout") else None

        async def call(retry_count: int, limit: float | None) -> AsyncStream[ChatCompletionChunk]:
            stream: AsyncStream[ChatCompletionChunk] = await self._create(
                messages, request_id, retry_count, read_timeout, {**params, "stream": True}
            )
            return stream

        upstream: UpstreamStream = await self._within(budget or self.budget(), call, streaming=True)
        return upstream

    async def _within(
        self,
        budget: RequestBudget,
        call: Callable[[int, float | None], Awaitable[Any]],
        *,
        streaming: bool,
    ) -> Any:
        retries_so_far = 0

        async def attempt() -> Any:
            nonlocal retries_so_far
            retry_count, retries_so_far = retries_so_far, retries_so_far + 1
            return await self._attempt(budget, call, retry_count, streaming)

        if budget.calls_left <= 0:
            raise RuntimeError("no provider calls left for this request")
        bulkhead = self.bulkhead
        if bulkhead is not None and not bulkhead.try_enter():
            raise ShedError(f"{bulkhead.limit} AI calls already in flight")
        try:
            return await self._budgeted(budget, attempt)
        finally:
            if bulkhead is not None:
                bulkhead.leave()

    async def _budgeted(self, budget: RequestBudget, attempt: Callable[[], Awaitable[Any]]) -> Any:
        remaining = None if budget.deadline is None else budget.deadline - self._clock()
        async with asyncio.timeout(None if remaining is None else max(remaining, 0.0)):
            if not self._config.has("retry"):
                return await attempt()
            retrying = AsyncRetrying(
                retry=retry_if_exception(is_transient),
                wait=self._wait,
                stop=self._give_up(budget),
                sleep=self._sleep,
                reraise=True,
            )
            return await retrying(attempt)

    def _wait(self, state: RetryCallState) -> float:
        error = _error_of(state)
        return self.policy.wait_before(state.attempt_number, error, self._rng)

    def _give_up(self, budget: RequestBudget) -> Callable[[RetryCallState], bool]:
        # Stop when out of retries or calls, when the wait would leave no time for an
        # attempt, or when the breaker is open.
        def stop(state: RetryCallState) -> bool:
            if budget.calls_left <= 0:
                return True
            if self.breaker is not None and self.breaker.state == "open":
                return True  # no point sleeping before a call the breaker will refuse
            deadline = budget.deadline
            remaining = float("inf") if deadline is None else deadline - self._clock()
            return not self.policy.should_retry(
                state.attempt_number, _error_of(state), state.upcoming_sleep, remaining
            )

        return stop

    async def _attempt(
        self,
        budget: RequestBudget,
        call: Callable[[int, float | None], Awaitable[Any]],
        retry_count: int,
        streaming: bool,
    ) -> Any:
        permit = self.breaker.acquire() if self.breaker is not None else None
        budget.calls_left -= 1
        limit = None
        if budget.deadline is not None:
            limit = min(self._config.attempt_timeout, max(budget.deadline - self._clock(), 0.0))
        try:
            try:
                async with asyncio.timeout(limit):
                    result = await call(retry_count, limit)
            except TimeoutError as exc:
                raise AttemptTimeoutError(f"no answer within {limit:g}s") from exc
        except BaseException as exc:
            # A cancelled attempt (the total budget ran out) is a failure too; permanent
            # errors mean the provider is up and answering, so they do not count against it.
            if self.breaker is not None and permit is not None:
                if isinstance(exc, Exception) and not is_transient(exc):
                    self.breaker.record_success(permit)
                else:
                    self.breaker.record_failure(permit)
            raise
        if streaming:
            return UpstreamStream(result, self.breaker, permit)  # settled when it ends
        if self.breaker is not None and permit is not None:
            self.breaker.record_success(permit)
        return result

    async def _create(
        self,
        messages: Messages,
        request_id: str,
        retry_count: int,
        limit: float | None,
        params: dict[str, Any],
    ) -> Any:
        started = self._clock()
        try:
            result = await self._send(messages, request_id, retry_count, limit, params)
        except BaseException:
            if self.metrics is not None:
                self.metrics.observe_call(self.model, self._clock() - started, ok=False)
            raise
        if self.metrics is not None:
            served = getattr(result, "model", None) or self.model  # a stream: known later
            self.metrics.observe_call(served, self._clock() - started, ok=True)
            self.metrics.count_tokens(served, getattr(result, "usage", None))
        return result

    async def _send(
        self,
        messages: Messages,
        request_id: str,
        retry_count: int,
        limit: float | None,
        params: dict[str, Any],
    ) -> Any:
        return await self._client.chat.completions.create(
            model=self.model,
            messages=messages,  # type: ignore[arg-type]
            # Our retries stand in for the SDK's, so we announce them as it would; the read
            # timeout it announces is this attempt's real limit (for a stream: per read).
            extra_headers={"x-request-id": request_id, "x-stainless-retry-count": str(retry_count)},
            timeout=NOT_GIVEN if limit is None else limit,
            **params,
        )


def _error_of(state: RetryCallState) -> BaseException:
    assert state.outcome is not None
    error = state.outcome.exception()
    assert error is not None
    return error


def describe_failure(error: BaseException) -> str:
    """A short, safe label for logs (never the provider's own error text)."""
    if isinstance(error, CircuitOpenError):
        return "circuit open"
    if isinstance(error, openai.APIStatusError):
        return f"provider HTTP {error.status_code}"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, openai.APIConnectionError):
        return "provider unreachable"
    return type(error).__name__
