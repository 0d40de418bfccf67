"""Which provider errors the hardened demo retries, and how long it waits before a retry.

Transient: 408, 409, 429 (but not `insufficient_quota`), 5xx, connection errors and
timeouts, unless the provider says `x-should-retry: false`. The wait honours `retry-after-ms`
/ `retry-after`, else exponential backoff with jitter; the caller gives up at once when the
wait would not leave time for another attempt inside the budget (see `ai_call.py`).
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import openai

from gaplab.demo.breaker import CircuitOpenError

PERMANENT_CODES = frozenset({"insufficient_quota", "context_length_exceeded", "invalid_api_key"})
TRANSIENT_STATUSES = frozenset({408, 409, 429})


class AttemptTimeoutError(TimeoutError):
    """One provider call took longer than the per-attempt timeout."""


class EmptyAnswerError(Exception):
    """The provider answered 200 without any text: not an answer to pass on."""


def is_transient(error: BaseException) -> bool:
    """True when trying the same call again may succeed."""
    if isinstance(error, CircuitOpenError | EmptyAnswerError):
        return False
    if isinstance(error, TimeoutError | openai.APIConnectionError):
        return True  # APITimeoutError is an APIConnectionError
    if isinstance(error, openai.APIStatusError):
        should_retry = error.response.headers.get("x-should-retry", "").lower()
        if should_retry in ("true", "false"):
            return should_retry == "true"
        if error.code in PERMANENT_CODES or error.type in PERMANENT_CODES:
            return False
        return error.status_code in TRANSIENT_STATUSES or error.status_code >= 500
    return False


def retry_after_seconds(error: BaseException, now: float | None = None) -> float | None:
    """The wait the provider asked for (`retry-after-ms`, then `retry-after`), if any."""
    if not isinstance(error, openai.APIStatusError):
        return None
    headers = error.response.headers
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = -1.0
        if value > 0:
            return value
    text = headers.get("retry-after")
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        value = when.timestamp() - (time.time() if now is None else now)
    return value if value > 0 else None


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    initial_backoff: float = 0.25
    max_backoff: float = 2.0
    min_attempt: float = 0.1  # an attempt with less time than this left cannot succeed

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random (retry 1, 2, ...)."""
        ceiling = min(self.initial_backoff * 2.0 ** (retry_number - 1), self.max_backoff)
        return ceiling / 2 + rng.uniform(0.0, ceiling / 2)

    def wait_before(self, retry_number: int, error: BaseException, rng: random.Random) -> float:
        """Seconds to wait before retry `retry_number` (1-based) after `error`."""
        hint = retry_after_seconds(error)
        return hint if hint is not None else self.backoff(retry_number, rng)

    def should_retry(
        self, retry_number: int, error: BaseException, wait: float, remaining: float
    ) -> bool:
        """Retry only a transient error, within the retry count and the time left."""
        return (
            retry_number <= self.max_retries
            and is_transient(error)
            and wait + self.min_attempt <= remaining
        )
