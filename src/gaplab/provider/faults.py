"""Semantic faults the mock provider can apply, as written in scenario files and sent to the
control API.

A fault is what the provider does to a matching call (answer with an error, add latency,
hang, change the model's answer) or to the provider as a whole for its phase (`rate_limits`);
the scheduling fields (`probability`, `first`, `every`, `first_attempt`, `match`, `after`)
decide which calls match. Decisions are drawn from the run's seeded RNG so a run is
reproducible. A latency may be a ramp (`{from: 500ms, to: 8s}`) across the span the fault is
set for (the phase's length, which the engine passes when it sets the faults).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gaplab.provider.profiles import RateLimits
from gaplab.scenario.durations import Duration

StreamFault = Literal[
    "cut", "stall", "drip", "malformed_json", "half_line", "error_event", "wrong_order"
]
BehaviourName = Literal[
    "length",
    "content_filter",
    "refusal",
    "empty",
    "invalid_json",
    "invalid_tool_args",
    "obey_injection",
    "leak_system_prompt",
    "exfil_link",
    "pii",
    "huge_output",
]
# Stream faults after which the caller has no complete, usable answer.
_FAILING_STREAM_FAULTS = frozenset(
    {"cut", "stall", "malformed_json", "half_line", "error_event", "wrong_order"}
)
_ASSUMED_ANSWER_TOKENS = 100  # for `slowness` of a slowed stream: a typical answer's length
_P99_Z = 2.326  # the standard normal's 99th percentile: a log-normal latency's p99 factor
BAD_OUTPUTS = frozenset(
    {"length", "content_filter", "refusal", "empty", "invalid_json", "invalid_tool_args"}
)


class LatencyRamp(BaseModel):
    """A latency that moves linearly from `from` to `to` across the span the fault is set
    for (a phase: the engine passes its length), then holds `to`. `over` sets the span
    itself; without either the ramp takes 60 s."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: Duration = Field(alias="from")
    end: Duration = Field(alias="to")
    over: Duration | None = Field(default=None, gt=0)

    def at(self, elapsed: float, span: float | None) -> float:
        """The latency `elapsed` seconds after the fault was set."""
        length = self.over or span or 60.0
        share = min(1.0, max(0.0, elapsed / length))
        return self.start + (self.end - self.start) * share

    def describe(self) -> str:
        over = f" over {self.over:g}s" if self.over else ""
        return f"latency ramp {self.start:g}s→{self.end:g}s{over}"


class FaultMatch(BaseModel):
    """Restrict a fault to calls for a model, a user, or a dialect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    user: str | None = None
    dialect: Literal["openai", "anthropic"] | None = None


class ProviderFault(BaseModel):
    """One fault at the mock provider (scenario key `provider:`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    error: int | None = Field(default=None, ge=400, le=599, description="HTTP status to answer")
    code: str | None = Field(
        default=None, description="provider error code, e.g. insufficient_quota"
    )
    message: str | None = None
    retry_after: Duration | None = None
    latency: LatencyRamp | Duration | None = Field(
        default=None, description="added time to first byte, or a ramp {from, to}"
    )
    jitter: Duration | None = None
    hang: bool = False
    should_retry: bool | None = Field(
        default=None, description="send x-should-retry: true|false with the error"
    )
    distribution: Literal["uniform", "lognormal"] = Field(
        default="uniform",
        description="latency ± jitter (uniform) or log-normal with median latency, sigma",
    )
    sigma: float = Field(default=0.5, gt=0, le=3, description="log-normal spread")
    token_rate: float | None = Field(
        default=None, gt=0, description="streaming speed in tokens/s for matching calls"
    )
    stream: StreamFault | None = Field(default=None, description="break a streamed answer")
    stream_after: int = Field(default=5, ge=0, description="tokens sent before the stream fault")
    behaviour: BehaviourName | None = Field(default=None, description="what the model does")
    huge_tokens: int = Field(default=20_000, ge=1, description="answer size for huge_output")
    exfil_url: str = Field(
        default="https://collect.gaplab-exfil.test/pixel.png",
        description="outside host of the markdown image link (exfil_link, obey_injection)",
    )
    model_swap: str | None = Field(
        default=None, description="serve this model (id or alias) instead of the one asked for"
    )
    rate_limits: RateLimits | None = Field(
        default=None,
        description="the provider's rate limits for this phase (the profile's come back after)",
    )

    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    first: int | None = Field(default=None, ge=1, description="only the first N matching calls")
    every: int | None = Field(default=None, ge=1, description="only every Nth matching call")
    first_attempt: bool = Field(
        default=False,
        description="only each request's first attempt (x-stainless-retry-count 0, else the "
        "first call naming the request's reference)",
    )
    match: FaultMatch | None = None
    after: Duration | None = Field(
        default=None, description="only from this long after the fault was set (e.g. a model swap)"
    )

    @model_validator(mode="after")
    def _does_something(self) -> ProviderFault:
        effects = (
            self.error,
            self.latency,
            self.token_rate,
            self.stream,
            self.behaviour,
            self.model_swap,
            self.rate_limits,
        )
        if all(effect is None for effect in effects) and not self.hang:
            raise ValueError(
                "a provider fault needs one of: error, latency, hang, token_rate, "
                "stream, behaviour, model_swap, rate_limits"
            )
        if self.rate_limits is not None and (
            sum(effect is not None for effect in effects) > 1 or self.hang or self.scoped
        ):
            raise ValueError(
                "rate_limits sets the provider's limits for the phase: give it alone in its "
                "fault, without other effects or scheduling (probability, first, match...)"
            )
        if self.hang and self.error is not None:
            raise ValueError("hang and error cannot be combined: a hung call never answers")
        if self.stream is not None and (self.error is not None or self.hang):
            raise ValueError(
                "a stream fault breaks an answer; it cannot be combined with error or hang"
            )
        if self.should_retry is not None and self.error is None:
            raise ValueError("should_retry only makes sense with an error")
        if self.retry_after is not None and self.error is None:
            raise ValueError("retry_after only makes sense with an error (e.g. error: 429)")
        return self

    @property
    def is_outage(self) -> bool:
        """True when matching calls fail or never answer (not merely slow); a phase's rate
        limits count: the calls past them fail."""
        if self.hang or self.stream in _FAILING_STREAM_FAULTS or self.rate_limits is not None:
            return True
        return self.error is not None and (self.error >= 500 or self.error == 429)

    @property
    def slowness(self) -> float:
        """Seconds of latency this fault adds to a matching call (`math.inf` for a hang)."""
        if self.hang or self.stream == "stall":
            return math.inf
        latency = self.latency
        slowness = max(latency.start, latency.end) if isinstance(latency, LatencyRamp) else 0.0
        if isinstance(latency, float | int):
            slowness = float(latency)
            if self.distribution == "lognormal":  # its p99, not its median
                slowness *= math.exp(_P99_Z * self.sigma)
        if self.token_rate is not None:
            slowness += _ASSUMED_ANSWER_TOKENS / self.token_rate
        return slowness

    def describe(self) -> str:
        parts: list[str] = []
        if self.hang:
            parts.append("hang")
        if self.error is not None:
            parts.append(f"error {self.error}" + (f" {self.code}" if self.code else ""))
        if self.retry_after is not None:
            parts.append(f"retry-after {self.retry_after:g}s")
        if isinstance(self.latency, LatencyRamp):
            parts.append(self.latency.describe())
        elif self.latency is not None:
            jitter = f"±{self.jitter:g}s" if self.jitter else ""
            shape = f" log-normal σ={self.sigma:g}" if self.distribution == "lognormal" else ""
            parts.append(f"latency {self.latency:g}s{jitter}{shape}")
        if self.token_rate is not None:
            parts.append(f"{self.token_rate:g} tokens/s")
        if self.stream is not None:
            parts.append(f"stream {self.stream} after {self.stream_after} tokens")
        if self.behaviour is not None:
            parts.append(f"behaviour {self.behaviour}")
        if self.model_swap is not None:
            parts.append(f"model swap to {self.model_swap}")
        if self.rate_limits is not None:
            limits = self.rate_limits.model_dump(exclude_none=True)
            parts.append(
                "rate limits " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in limits.items())
            )
        if self.should_retry is not None:
            parts.append(f"x-should-retry {str(self.should_retry).lower()}")
        return "provider: " + ", ".join(parts) + self.describe_scope()

    def describe_scope(self) -> str:
        """Which calls the fault applies to, as a suffix: ` [match model 'x', first 3]`."""
        scope: list[str] = []
        if self.match is not None:
            for key in ("model", "user", "dialect"):
                value = getattr(self.match, key)
                if value is not None:
                    scope.append(f"match {key} {value!r}")
        if self.after is not None:
            scope.append(f"after {self.after:g}s")
        if self.probability < 1:
            scope.append(f"probability {self.probability:g}")
        if self.first is not None:
            scope.append(f"first {self.first} calls")
        if self.every is not None:
            scope.append(f"every {_ordinal(self.every)} call")
        if self.first_attempt:
            scope.append("first attempt of each request")
        return f" [{', '.join(scope)}]" if scope else ""

    def fixed_latency(self) -> float:
        """The latency to add now (a ramp's current value is filled in by the schedule)."""
        latency = self.latency
        if isinstance(latency, LatencyRamp):
            return latency.start
        return latency or 0.0

    @property
    def scoped(self) -> bool:
        """True when the fault applies to some calls only."""
        return bool(self.describe_scope())


def _ordinal(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"
