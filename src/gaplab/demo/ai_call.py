"""The hardened demo's AI call: time budget → retries → circuit breaker → attempt timeout.

The order is the one of Microsoft's standard resilience pipeline (total timeout, retry,
breaker, attempt timeout): the breaker counts provider calls, not user requests, and a retry
that finds it open gives up at once. Each layer is skipped when its defence is switched off;
without `timeout` the SDK's own default (600 s) is the only limit. Retries use tenacity.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable

import openai
from openai import NOT_GIVEN
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from gaplab.demo.breaker import CircuitBreaker, CircuitOpenError
from gaplab.demo.options import HardenedConfig
from gaplab.demo.retry_policy import (
    AttemptTimeoutError,
    EmptyAnswerError,
    RetryPolicy,
    is_transient,
)

Messages = list[dict[str, str]]


class ResilientChat:
    """Ask the model for one answer within the configured defences; raise when it cannot."""

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
        self._model = model
        self._config = config
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.policy = RetryPolicy(max_retries=config.max_retries)
        self.breaker: CircuitBreaker | None = None
        if config.has("breaker"):
            self.breaker = CircuitBreaker(config.threshold, config.break_duration, clock)

    async def answer(self, messages: Messages, request_id: str) -> str:
        budget = self._config.budget if self._config.has("timeout") else None
        deadline = None if budget is None else self._clock() + budget
        retries_so_far = itertools.count()

        async def attempt() -> str:
            return await self._attempt(messages, request_id, deadline, next(retries_so_far))

        async with asyncio.timeout(budget):
            if not self._config.has("retry"):
                return await attempt()
            retrying = AsyncRetrying(
                retry=retry_if_exception(is_transient),
                wait=self._wait,
                stop=self._give_up(deadline),
                sleep=self._sleep,
                reraise=True,
            )
            result: str = await retrying(attempt)
            return result

    def _wait(self, state: RetryCallState) -> float:
        error = _error_of(state)
        return self.policy.wait_before(state.attempt_number, error, self._rng)

    def _give_up(self, deadline: float | None) -> Callable[[RetryCallState], bool]:
        # Stop when out of retries, when the wait would leave no time for an attempt, or when
        # the breaker is open.
        def stop(state: RetryCallState) -> bool:
            if self.breaker is not None and self.breaker.state == "open":
                return True  # no point sleeping before a call the breaker will refuse
            remaining = float("inf") if deadline is None else deadline - self._clock()
            return not self.policy.should_retry(
                state.attempt_number, _error_of(state), state.upcoming_sleep, remaining
            )

        return stop

    async def _attempt(
        self, messages: Messages, request_id: str, deadline: float | None, retry_count: int
    ) -> str:
        permit = self.breaker.acquire() if self.breaker is not None else None
        limit = None
        if deadline is not None:
            limit = min(self._config.attempt_timeout, max(deadline - self._clock(), 0.0))
        try:
            try:
                async with asyncio.timeout(limit):
                    completion = await self._client.chat.completions.create(
                        model=self._model,
                        messages=messages,  # type: ignore[arg-type]
                        # Our retries stand in for the SDK's, so we announce them as it would;
                        # the read timeout it announces is this attempt's real limit.
                        extra_headers={
                            "x-request-id": request_id,
                            "x-stainless-retry-count": str(retry_count),
                        },
                        timeout=NOT_GIVEN if limit is None else limit,
                    )
            except TimeoutError as exc:
                raise AttemptTimeoutError(f"no answer within {limit:g}s") from exc
            text = completion.choices[0].message.content if completion.choices else None
            if not text or not text.strip():
                raise EmptyAnswerError("the model returned no text")
        except BaseException as exc:
            # A cancelled attempt (the total budget ran out) is a failure too; permanent
            # errors mean the provider is up and answering, so they do not count against it.
            if self.breaker is not None and permit is not None:
                if isinstance(exc, Exception) and not is_transient(exc):
                    self.breaker.record_success(permit)
                else:
                    self.breaker.record_failure(permit)
            raise
        if self.breaker is not None and permit is not None:
            self.breaker.record_success(permit)
        return text


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
