"""Target files: how the lab reaches (and optionally starts) the AI feature under test.

Strings may use placeholders filled at run time: `{port}` (the port the lab picked for a
started target), `{provider.openai_base_url}`, `{provider.anthropic_base_url}`, and in the
request template `{input}`, `{user}`, `{request_id}`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gaplab.scenario.durations import Duration

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


def _split_endpoint(value: str) -> tuple[str, str]:
    method, _, path = value.strip().partition(" ")
    if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} or not path:
        raise ValueError(f"{value!r}: expected `METHOD /path`, e.g. `GET /health`")
    return method.upper(), path.strip()


class ReadySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    http: str = "GET /health"
    within: Duration = Field(default=20.0, gt=0)

    @field_validator("http")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        _split_endpoint(value)
        return value


class StartSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str | list[str]
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    ready: ReadySpec = ReadySpec()


class RequestSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: HttpMethod = "POST"
    url: str
    json_body: Any = Field(default=None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)
    correlation_header: str = "x-request-id"


class DegradedSpec(BaseModel):
    """How the target marks a fallback answer; any one signal that matches counts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: tuple[int, ...] = ()
    contains: tuple[str, ...] = ()
    field: str | None = Field(default=None, description="JSON path whose truthy value marks it")
    header: str | None = Field(
        default=None, description="a response header whose presence marks it"
    )


class ResponseSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: str = "$.answer"
    degraded: DegradedSpec = DegradedSpec()


class TargetFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    version: Literal[1] = 1
    name: str
    start: StartSpec | None = None
    request: RequestSpec
    response: ResponseSpec = ResponseSpec()
    non_ai_endpoints: tuple[str, ...] = ()
    sla: Duration | None = Field(default=None, gt=0)

    @field_validator("non_ai_endpoints")
    @classmethod
    def _endpoints(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            _split_endpoint(item)
        return value


def split_endpoint(value: str) -> tuple[str, str]:
    """`"GET /health"` -> `("GET", "/health")` (validated by the models above)."""
    return _split_endpoint(value)
