"""Semantic faults the mock provider can apply, as written in scenario files and sent to the
control API.

A fault is what the provider does to a matching call (answer with an error, add latency,
hang); the scheduling fields (`probability`, `first`, `every`, `match`) decide which calls
match. Decisions are drawn from the run's seeded RNG so a run is reproducible.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gaplab.scenario.durations import Duration


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
    latency: Duration | None = None
    jitter: Duration | None = None
    hang: bool = False

    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    first: int | None = Field(default=None, ge=1, description="only the first N matching calls")
    every: int | None = Field(default=None, ge=1, description="only every Nth matching call")
    match: FaultMatch | None = None
    after: Duration | None = Field(
        default=None, description="only from this long after the fault was set (e.g. a model swap)"
    )

    @model_validator(mode="after")
    def _does_something(self) -> ProviderFault:
        if self.error is None and self.latency is None and not self.hang:
            raise ValueError("a provider fault needs one of: error, latency, hang")
        if self.hang and self.error is not None:
            raise ValueError("hang and error cannot be combined: a hung call never answers")
        if self.retry_after is not None and self.error is None:
            raise ValueError("retry_after only makes sense with an error (e.g. error: 429)")
        return self

    @property
    def is_outage(self) -> bool:
        """True when matching calls fail or never answer (not merely slow)."""
        return self.hang or (self.error is not None and (self.error >= 500 or self.error == 429))

    @property
    def slowness(self) -> float:
        """Seconds of latency this fault adds to a matching call (`math.inf` for a hang)."""
        if self.hang:
            return math.inf
        return self.latency or 0.0

    def describe(self) -> str:
        parts: list[str] = []
        if self.hang:
            parts.append("hang")
        if self.error is not None:
            parts.append(f"error {self.error}" + (f" {self.code}" if self.code else ""))
        if self.retry_after is not None:
            parts.append(f"retry-after {self.retry_after:g}s")
        if self.latency is not None:
            jitter = f"±{self.jitter:g}s" if self.jitter else ""
            parts.append(f"latency {self.latency:g}s{jitter}")
        if self.probability < 1:
            parts.append(f"p={self.probability:g}")
        if self.first is not None:
            parts.append(f"first {self.first}")
        if self.every is not None:
            parts.append(f"every {self.every}th")
        return "provider: " + ", ".join(parts)
