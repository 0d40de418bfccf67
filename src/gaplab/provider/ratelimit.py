"""Requests-per-minute and tokens-per-minute windows from the profile, enforced per provider
and reported in each dialect's rate-limit headers.

A sliding 60-second window on the run clock: a call is admitted when both the request count
and the token count of the last minute leave room for it; otherwise the caller is told how
long until enough of the window has expired (that becomes `retry-after`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gaplab.provider.profiles import RateLimits

WINDOW = 60.0


@dataclass(frozen=True)
class Admission:
    admitted: bool
    limit_requests: int | None
    remaining_requests: int | None
    reset_requests: float  # seconds until the request window has room again
    limit_tokens: int | None
    remaining_tokens: int | None
    reset_tokens: float
    retry_after: float  # 0 when admitted
    exceeded: str | None  # "requests" | "tokens" | None


class RateWindow:
    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits
        self._entries: deque[tuple[float, int]] = deque()
        self._tokens = 0

    def _expire(self, now: float) -> None:
        while self._entries and self._entries[0][0] <= now - WINDOW:
            self._tokens -= self._entries.popleft()[1]

    def _wait_for_tokens(self, now: float, needed: int, limit: int) -> float:
        """Seconds until the window holds at most `limit - needed` tokens."""
        excess = self._tokens + needed - limit
        for t, tokens in self._entries:
            excess -= tokens
            if excess <= 0:
                return max(0.0, t + WINDOW - now)
        return WINDOW

    def admit(self, now: float, tokens: int) -> Admission:
        """Count the call if there is room, and describe the window either way."""
        if self._limits.requests_per_minute is None and self._limits.tokens_per_minute is None:
            return Admission(True, None, None, 0.0, None, None, 0.0, 0.0, None)
        self._expire(now)
        rpm, tpm = self._limits.requests_per_minute, self._limits.tokens_per_minute
        wait_requests = 0.0
        if rpm is not None and len(self._entries) + 1 > rpm:
            wait_requests = max(0.0, self._entries[len(self._entries) - rpm][0] + WINDOW - now)
        wait_tokens = 0.0
        if tpm is not None and self._tokens + tokens > tpm:
            wait_tokens = self._wait_for_tokens(now, tokens, tpm) if tokens <= tpm else WINDOW
        exceeded = "requests" if wait_requests > 0 else ("tokens" if wait_tokens > 0 else None)
        if exceeded is None:
            self._entries.append((now, tokens))
            self._tokens += tokens
        oldest = self._entries[0][0] if self._entries else now
        reset = max(0.0, oldest + WINDOW - now)
        return Admission(
            admitted=exceeded is None,
            limit_requests=rpm,
            remaining_requests=None if rpm is None else max(0, rpm - len(self._entries)),
            reset_requests=wait_requests or (reset if rpm and len(self._entries) >= rpm else 0.0),
            limit_tokens=tpm,
            remaining_tokens=None if tpm is None else max(0, tpm - self._tokens),
            reset_tokens=wait_tokens or (reset if self._tokens else 0.0),
            retry_after=max(wait_requests, wait_tokens),
            exceeded=exceeded,
        )


def go_duration(seconds: float) -> str:
    """OpenAI's reset spelling: `12ms`, `1s`, `6m0s`."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    minutes, rest = divmod(seconds, 60)
    if minutes >= 1:
        return f"{int(minutes)}m{rest:.0f}s"
    return f"{rest:.3g}s"


def openai_headers(admission: Admission) -> dict[str, str]:
    headers: dict[str, str] = {}
    if admission.limit_requests is not None:
        headers["x-ratelimit-limit-requests"] = str(admission.limit_requests)
        headers["x-ratelimit-remaining-requests"] = str(admission.remaining_requests)
        headers["x-ratelimit-reset-requests"] = go_duration(admission.reset_requests)
    if admission.limit_tokens is not None:
        headers["x-ratelimit-limit-tokens"] = str(admission.limit_tokens)
        headers["x-ratelimit-remaining-tokens"] = str(admission.remaining_tokens)
        headers["x-ratelimit-reset-tokens"] = go_duration(admission.reset_tokens)
    return headers


def anthropic_headers(admission: Admission, wall_now: datetime | None = None) -> dict[str, str]:
    now = wall_now or datetime.now(UTC)

    def stamp(seconds: float) -> str:
        moment = now + timedelta(seconds=math.ceil(seconds))
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    headers: dict[str, str] = {}
    if admission.limit_requests is not None:
        headers["anthropic-ratelimit-requests-limit"] = str(admission.limit_requests)
        headers["anthropic-ratelimit-requests-remaining"] = str(admission.remaining_requests)
        headers["anthropic-ratelimit-requests-reset"] = stamp(admission.reset_requests)
    if admission.limit_tokens is not None:
        headers["anthropic-ratelimit-tokens-limit"] = str(admission.limit_tokens)
        headers["anthropic-ratelimit-tokens-remaining"] = str(admission.remaining_tokens)
        headers["anthropic-ratelimit-tokens-reset"] = stamp(admission.reset_tokens)
    return headers
