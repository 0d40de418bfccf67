"""Requests-, tokens-, input-tokens- and output-tokens-per-minute windows from the profile,
enforced per provider and reported in each dialect's rate-limit headers.

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


METERS = ("requests", "tokens", "input_tokens", "output_tokens")


@dataclass(frozen=True)
class Meter:
    """One limit as the headers report it."""

    limit: int
    remaining: int
    reset: float  # seconds until this meter has room again (0 when nothing is counted)


@dataclass(frozen=True)
class Admission:
    admitted: bool
    meters: dict[str, Meter]  # the limited ones only, keyed by METERS names
    retry_after: float  # 0 when admitted
    exceeded: str | None  # the METERS name that refused the call, if one did


class RateWindow:
    """Up to four meters over one sliding window: requests, all tokens, input tokens and
    output tokens (Anthropic limits input and output separately and, as it does, output is
    counted from `max_tokens` at admission, since the answer is not written yet)."""

    def __init__(self, limits: RateLimits) -> None:
        per_meter = (
            limits.requests_per_minute,
            limits.tokens_per_minute,
            limits.input_tokens_per_minute,
            limits.output_tokens_per_minute,
        )
        # (index into METERS and the amounts, name, limit) of the meters that are limited
        self._limited = [
            (index, name, limit)
            for index, (name, limit) in enumerate(zip(METERS, per_meter, strict=True))
            if limit is not None
        ]
        # (time, amount per meter, in METERS order)
        self._entries: deque[tuple[float, tuple[int, int, int, int]]] = deque()
        self._totals = [0, 0, 0, 0]

    def _expire(self, now: float) -> None:
        while self._entries and self._entries[0][0] <= now - WINDOW:
            _, amounts = self._entries.popleft()
            for index, amount in enumerate(amounts):
                self._totals[index] -= amount

    def _wait(self, now: float, index: int, needed: int, limit: int) -> float:
        """Seconds until meter `index` holds at most `limit - needed`."""
        excess = self._totals[index] + needed - limit
        if excess <= 0:
            return 0.0
        for t, amounts in self._entries:
            excess -= amounts[index]
            if excess <= 0:
                return max(0.0, t + WINDOW - now)
        return WINDOW  # more than the limit: never fits; a full window, as the services say

    def admit(self, now: float, input_tokens: int, output_tokens: int = 0) -> Admission:
        """Count the call if every meter has room, and describe the window either way.
        `output_tokens` is the call's output allowance (`max_tokens`)."""
        if not self._limited:
            return Admission(True, {}, 0.0, None)
        self._expire(now)
        amounts = (1, input_tokens + output_tokens, input_tokens, output_tokens)
        waits = {
            name: self._wait(now, index, amounts[index], limit)
            for index, name, limit in self._limited
        }
        exceeded = next((name for name, wait in waits.items() if wait > 0), None)
        if exceeded is None:
            self._entries.append((now, amounts))
            for index, amount in enumerate(amounts):
                self._totals[index] += amount
        oldest = self._entries[0][0] if self._entries else now
        refill = max(0.0, oldest + WINDOW - now)
        meters = {}
        for index, name, limit in self._limited:
            total = self._totals[index]
            reset = waits[name] or (refill if total else 0.0)
            meters[name] = Meter(limit, max(0, limit - total), reset)
        return Admission(
            admitted=exceeded is None,
            meters=meters,
            retry_after=max(waits.values()),
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
    """OpenAI reports requests and tokens only."""
    headers: dict[str, str] = {}
    for name in ("requests", "tokens"):
        meter = admission.meters.get(name)
        if meter is not None:
            headers[f"x-ratelimit-limit-{name}"] = str(meter.limit)
            headers[f"x-ratelimit-remaining-{name}"] = str(meter.remaining)
            headers[f"x-ratelimit-reset-{name}"] = go_duration(meter.reset)
    return headers


def anthropic_headers(admission: Admission, wall_now: datetime | None = None) -> dict[str, str]:
    """`anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,
    reset}`, resets as RFC 3339 timestamps."""
    now = wall_now or datetime.now(UTC)

    def stamp(seconds: float) -> str:
        moment = now + timedelta(seconds=math.ceil(seconds))
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    headers: dict[str, str] = {}
    for name in METERS:
        meter = admission.meters.get(name)
        if meter is not None:
            prefix = f"anthropic-ratelimit-{name.replace('_', '-')}"
            headers[f"{prefix}-limit"] = str(meter.limit)
            headers[f"{prefix}-remaining"] = str(meter.remaining)
            headers[f"{prefix}-reset"] = stamp(meter.reset)
    return headers
