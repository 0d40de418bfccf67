"""Network faults as written in scenario files (scenario key `network:`).

Each entry is either a Toxiproxy toxic on the provider path (`toxic: latency`, ...) or the
proxy being disabled (`down: true`, clients get connection refused). Durations use the
scenario syntax (`2s`, `500ms`) and are converted to Toxiproxy's units by `to_toxic()`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gaplab.scenario.durations import Duration, format_duration

ToxicType = Literal[
    "latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data"
]

# Attributes each toxic accepts in scenario files.
_TOXIC_FIELDS: dict[str, set[str]] = {
    "latency": {"latency", "jitter"},
    "bandwidth": {"rate"},
    "slow_close": {"delay"},
    "timeout": {"timeout"},
    "reset_peer": {"timeout"},
    "slicer": {"average_size", "size_variation", "delay"},
    "limit_data": {"bytes"},
}
_ATTRIBUTE_ORDER = (
    "latency",
    "jitter",
    "rate",
    "delay",
    "timeout",
    "average_size",
    "size_variation",
    "bytes",
)
_ATTRIBUTE_FIELDS = {
    "latency",
    "jitter",
    "rate",
    "delay",
    "timeout",
    "average_size",
    "size_variation",
    "bytes",
}


class NetworkFault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    toxic: ToxicType | None = None
    down: bool = False
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: float = Field(default=1.0, ge=0.0, le=1.0)

    latency: Duration | None = None
    jitter: Duration | None = None
    rate: int | None = Field(default=None, ge=0, description="KB/s (bandwidth)")
    delay: Duration | None = None
    timeout: Duration | None = None
    average_size: int | None = Field(default=None, ge=1)
    size_variation: int | None = Field(default=None, ge=0)
    bytes: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> NetworkFault:
        if self.down == (self.toxic is not None):
            raise ValueError("a network fault is either `down: true` or a `toxic:`, exactly one")
        given = {name for name in _ATTRIBUTE_FIELDS if getattr(self, name) is not None}
        allowed = _TOXIC_FIELDS.get(self.toxic or "", set())
        extra = given - allowed
        if extra:
            kind = f"toxic {self.toxic}" if self.toxic else "down"
            raise ValueError(f"{kind} does not take: {', '.join(sorted(extra))}")
        return self

    @property
    def is_outage(self) -> bool:
        """True when calls through the proxy fail or never complete."""
        return self.down or self.toxic in {"timeout", "reset_peer", "limit_data"}

    @property
    def slowness(self) -> float:
        """Worst-case seconds this fault adds to a provider call; `math.inf` for a black hole.

        A `timeout` toxic with timeout 0 holds calls forever; a latency toxic adds its latency
        (plus jitter, per chunk); anything else fails calls or slows them by an amount that
        depends on the answer's size, and counts 0 here.
        """
        if self.toxic == "timeout" and not self.timeout:
            return math.inf
        if self.toxic == "latency":
            return (self.latency or 0.0) + (self.jitter or 0.0)
        return 0.0

    def to_toxic(self) -> dict[str, Any]:
        """The Toxiproxy toxic body (name, type, stream, toxicity, attributes)."""
        if self.toxic is None:
            raise ValueError("`down` is not a toxic")
        attrs: dict[str, Any] = {}
        ms = {"latency", "jitter", "timeout"}
        for name in _TOXIC_FIELDS[self.toxic]:
            value = getattr(self, name)
            if value is None:
                continue
            if name in ms or (name == "delay" and self.toxic == "slow_close"):
                attrs[name] = round(value * 1000)
            elif name == "delay":  # slicer: microseconds
                attrs[name] = round(value * 1_000_000)
            else:
                attrs[name] = value
        return {
            "name": f"{self.toxic}_{self.stream}",
            "type": self.toxic,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": attrs,
        }

    def describe(self) -> str:
        """`network: latency downstream (latency 2s, jitter 500ms)`, in the file's units."""
        if self.down:
            return "network: down (connection refused)"
        attrs = []
        for name in _ATTRIBUTE_ORDER:
            if name not in _TOXIC_FIELDS[self.toxic or ""]:
                continue
            value = getattr(self, name)
            if value is None:
                continue
            if name in {"latency", "jitter", "timeout", "delay"}:
                text = format_duration(value)
            elif name == "rate":
                text = f"{value} KB/s"
            else:
                text = f"{value} bytes"
            attrs.append(f"{name.replace('_', ' ')} {text}")
        if self.toxicity < 1:
            attrs.append(f"toxicity {self.toxicity:g}")
        return f"network: {self.toxic} {self.stream}" + (f" ({', '.join(attrs)})" if attrs else "")
