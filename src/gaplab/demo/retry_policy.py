"""Which provider errors the hardened demo retries, and how long it waits before a retry.

Permanent, never retried whatever else the response says: 400, 401, 403, 404 (e.g.
`model_not_found`), 422, and the codes `context_length_exceeded`, `insufficient_quota` (and
the other spend-limit codes) and `invalid_api_key` on any status. Transient: 408, 409, 429,
5xx, connection errors and timeouts, unless the provider says `x-should-retry: false`.

The wait honours the provider's hint, the later of `retry-after-ms` and `retry-after` (the
SDK reads the first one it finds; taking the later never retries before either says), else
exponential backoff with jitter; the caller gives up at once when the wait would not leave
time for another attempt inside the budget (see `ai_call.py`).
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import openai

from gaplab.demo.breaker import CircuitOpenError

PERMANENT_CODES = frozenset(
    {
        "insufficient_quota",
        "credit_balance_exhausted",
        "project_spend_limit_exceeded",
        "context_length_exceeded",
        "invalid_api_key",
        "model_not_found",
    }
)
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 422})
TRANSIENT_STATUSES = frozenset({408, 409, 429})


class AttemptTimeoutError(TimeoutError):
    """One provider call took longer than the per-attempt timeout."""


def is_permanent(error: BaseException) -> bool:
    """True for a provider error that the same call can never get past."""
    if not isinstance(error, openai.APIStatusError):
        return False
    return (
        error.status_code in PERMANENT_STATUSES
        or error.code in PERMANENT_CODES
        or error.type in PERMANENT_CODES
    )


def is_transient(error: BaseException) -> bool:
    """True when trying the same call again may succeed."""
    if isinstance(error, CircuitOpenError):
        return False
    if isinstance(error, TimeoutError | openai.APIConnectionError):
        return True  # APITimeoutError is an APIConnectionError
    if isinstance(error, openai.APIStatusError):
        if is_permanent(error):
            return False  # before x-should-retry: a quota or a bad request does not heal
        should_retry = error.response.headers.get("x-should-retry", "").lower()
        if should_retry in ("true", "false"):
            return should_retry == "true"
        return error.status_code in TRANSIENT_STATUSES or error.status_code >= 500
    return False


def retry_after_seconds(error: BaseException, now: float | None = None) -> float | None:
    """The wait the provider asked for: the later of `retry-after-ms` and `retry-after`
    (seconds or an HTTP date), if either holds a positive value."""
    if not isinstance(error, openai.APIStatusError):
        return None
    headers = error.response.headers
    hints = [_millis(headers.get("retry-after-ms")), _seconds(headers.get("retry-after"), now)]
    waits = [hint for hint in hints if hint is not None and hint > 0]
    return max(waits) if waits else None


def _millis(text: str | None) -> float | None:
    try:
        return None if text is None else float(text) / 1000.0
    except ValueError:
        return None


def _seconds(text: str | None, now: float | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - (time.time() if now is None else now)


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
