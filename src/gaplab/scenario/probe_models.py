"""Target file declarations for the probed items: what the target exposes and how to read it.

- `health`: the health endpoint and how it says "degraded" (a JSON path equal to a value,
  or HTTP statuses);
- `metrics`: a Prometheus text endpoint and the names of its AI-call latency histogram,
  its input/output token counters and the label carrying the model id;
- `kill_switch`: the request that turns AI off and the one that turns it back on;
- `write`: an endpoint that stores something and has AI enrich it (asynchronously, if the
  target is built well);
- `enrichment`: the endpoint that (re-)triggers enrichment of one stored item, `{item}`
  standing for the item's id, read from the write's answer at `item`.

Every declaration is optional: a check that needs a missing one is `not_run` and says which
to add. The models are strict, like the rest of the target file.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})


def _split(value: str) -> tuple[str, str]:
    method, _, path = value.strip().partition(" ")
    if method.upper() not in _METHODS or not path.strip():
        raise ValueError(f"{value!r}: expected `METHOD /path`, e.g. `GET /health`")
    return method.upper(), path.strip()


class ProbeRequest(BaseModel):
    """One request the prober sends: `http: POST /admin/ai`, headers and a JSON body."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    http: str
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")

    @field_validator("http")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        _split(value)
        return value

    @property
    def method(self) -> str:
        return _split(self.http)[0]

    @property
    def path(self) -> str:
        return _split(self.http)[1]

    @property
    def label(self) -> str:
        method, path = _split(self.http)
        return f"{method} {path}"


def _request(value: Any) -> Any:
    """`"GET /health"` is short for `{http: "GET /health"}`."""
    return {"http": value} if isinstance(value, str) else value


class DegradedWhen(BaseModel):
    """How a health answer says "degraded": the value at a JSON path equals (one of) some
    values, and/or the HTTP status is one of some statuses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str | None = Field(default=None, description="JSON path, e.g. $.status")
    equals: tuple[str | int | bool, ...] = Field(default=(), description="values meaning degraded")
    status: tuple[int, ...] = Field(default=(), description="HTTP statuses meaning degraded")

    @field_validator("equals", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | int | bool) else value

    @model_validator(mode="after")
    def _something(self) -> DegradedWhen:
        if self.field is None and not self.status:
            raise ValueError("say how health reads degraded: `field` + `equals`, or `status`")
        if self.field is not None and not self.equals:
            raise ValueError("`field` needs `equals`: the value(s) that mean degraded")
        return self


class HealthSpec(ProbeRequest):
    http: str = "GET /health"
    degraded: DegradedWhen = Field(description="how the answer says the service is degraded")


class TokenCounters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input: str | None = Field(default=None, description="counter of prompt tokens")
    output: str | None = Field(default=None, description="counter of completion tokens")


class MetricsSpec(ProbeRequest):
    """A Prometheus text-format endpoint (read with prometheus_client's parser)."""

    http: str = "GET /metrics"
    latency_histogram: str | None = Field(
        default=None, description="histogram of AI-call latency in seconds"
    )
    tokens: TokenCounters = Field(default_factory=TokenCounters)
    model_label: str | None = Field(default=None, description="label carrying the model id")


class KillSwitchSpec(BaseModel):
    """The two requests of a kill switch: AI off, AI back on."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    off: ProbeRequest
    on: ProbeRequest

    @field_validator("off", "on", mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        return _request(value)


class WriteSpec(ProbeRequest):
    """A write the AI enriches; `{input}` in it is a text the lab makes (with a reference
    the lab can find in the provider calls it causes)."""

    every: float = Field(default=0.5, gt=0, le=60, description="seconds between probe writes")


class EnrichmentSpec(ProbeRequest):
    """(Re-)trigger enrichment of one item: `{item}` in the request is the id read from the
    write's answer at `item`."""

    item: str = Field(default="$.id", description="JSON path of the item id in the write answer")
