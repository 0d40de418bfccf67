"""Target files: how the lab reaches (and optionally starts) the AI feature under test.

Strings may use placeholders filled at run time: `{port}` (the port the lab picked for a
started target), `{provider.openai_base_url}`, `{provider.anthropic_base_url}`, and in the
request template `{input}`, `{user}`, `{request_id}`, `{conversation}` (a conversation turn's
session id; empty for a request that is not part of one).

Besides how to reach it, a target file declares the signals the checks read from answers:
the fallback (`response.degraded`), a refusal (`response.refusal`), the AI disclosure
(`response.disclosure`), the hosts links may point to (`response.link_hosts`), and how a
user who opted out of AI processing is marked (`request.opt_out`). Every declaration is
optional; a check that needs a missing one is `not_run` and says which to add.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gaplab.scenario.durations import Duration
from gaplab.scenario.probe_models import (
    EnrichmentSpec,
    HealthSpec,
    KillSwitchSpec,
    MetricsSpec,
    WriteSpec,
)

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


def _split_endpoint(value: str) -> tuple[str, str]:
    method, _, path = value.strip().partition(" ")
    if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} or not path:
        raise ValueError(f"{value!r}: expected `METHOD /path`, e.g. `GET /health`")
    return method.upper(), path.strip()


class EndpointCall(BaseModel):
    """One request to a plain endpoint of the target: `GET /health`, with the headers (and
    JSON body) a real client would send, e.g. a gateway that needs `Authorization`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    http: str = "GET /health"
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")

    @field_validator("http")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        _split_endpoint(value)
        return value

    @property
    def method(self) -> str:
        return _split_endpoint(self.http)[0]

    @property
    def path(self) -> str:
        return _split_endpoint(self.http)[1]

    @property
    def label(self) -> str:
        """`GET /notes/1`: how the endpoint is named in events and reports."""
        method, path = _split_endpoint(self.http)
        return f"{method} {path}"


def _endpoint_call(value: Any) -> Any:
    """`"GET /health"` is short for `{http: "GET /health"}`."""
    return {"http": value} if isinstance(value, str) else value


class ReadySpec(EndpointCall):
    """The readiness probe of a started target, polled until it answers below 400."""

    within: Duration = Field(default=60.0, gt=0)


class StartSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str | list[str]
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    ready: ReadySpec = ReadySpec()


class OptOutSpec(BaseModel):
    """How a request says its user opted out of AI processing: extra headers and JSON fields
    merged into the request body (deeply) for those users."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    headers: dict[str, str] = Field(default_factory=dict)
    json_fields: dict[str, Any] = Field(default_factory=dict, alias="json")

    @model_validator(mode="after")
    def _something(self) -> OptOutSpec:
        if not self.headers and not self.json_fields:
            raise ValueError("opt_out needs `headers:` or `json:` (how the request says it)")
        return self


class RequestSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: HttpMethod = "POST"
    url: str
    json_body: Any = Field(default=None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)
    correlation_header: str = "x-request-id"
    opt_out: OptOutSpec | None = Field(
        default=None, description="how a request marks a user who opted out of AI processing"
    )


HeaderRule = str | dict[str, str | list[str]]


class HeaderMatch(BaseModel):
    """A response header that marks an answer: present at all, or with one of some values
    (compared case-insensitively, surrounding spaces ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    values: tuple[str, ...] = ()  # empty: presence is enough

    def matches(self, headers: Mapping[str, str]) -> bool:
        wanted = self.name.lower()
        for key, value in headers.items():
            if key.lower() == wanted:
                return not self.values or value.strip().lower() in self._lowered
        return False

    @property
    def _lowered(self) -> frozenset[str]:
        return frozenset(v.strip().lower() for v in self.values)

    def describe(self) -> str:
        if not self.values:
            return f"header {self.name}"
        return f"header {self.name}: " + " | ".join(self.values)


def _header_rule(value: Any) -> Any:
    """`X-Degraded` (present), `{X-Degraded: "1"}` or `{X-Degraded: ["1", "true"]}`."""
    if value is None or isinstance(value, HeaderMatch):
        return value
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict) and "name" not in value:
        if len(value) != 1:
            raise ValueError("give one header: `Name`, `{Name: value}` or `{Name: [values]}`")
        ((name, values),) = value.items()
        if isinstance(values, str | int | bool):
            values = [str(values).lower() if isinstance(values, bool) else str(values)]
        return {"name": name, "values": values}
    return value


class SignalSpec(BaseModel):
    """How the target marks a kind of answer; any one signal that matches counts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: tuple[int, ...] = ()
    contains: tuple[str, ...] = ()
    field: str | None = Field(default=None, description="JSON path whose truthy value marks it")
    header: HeaderMatch | None = Field(
        default=None, description="a response header: present, or with one of some values"
    )

    @field_validator("header", mode="before")
    @classmethod
    def _header(cls, value: Any) -> Any:
        return _header_rule(value)

    @property
    def declared(self) -> bool:
        return bool(self.status or self.contains or self.field or self.header)

    def describe(self) -> str:
        parts = [f"status {', '.join(map(str, self.status))}"] if self.status else []
        parts += [f"text {text!r}" for text in self.contains]
        if self.field:
            parts.append(f"field {self.field}")
        if self.header:
            parts.append(self.header.describe())
        return " or ".join(parts) or "nothing declared"


DegradedSpec = SignalSpec  # the fallback signal (kept as a name: it reads well in code)


class DisclosureSpec(BaseModel):
    """Where an answer says it was generated by AI: a truthy JSON field or a header."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str | None = None
    header: HeaderMatch | None = None

    @field_validator("header", mode="before")
    @classmethod
    def _header(cls, value: Any) -> Any:
        return _header_rule(value)

    @property
    def declared(self) -> bool:
        return bool(self.field or self.header)


class StreamSpec(BaseModel):
    """A streamed answer, read as a browser would: server-sent events whose `data` is JSON
    carrying a piece of the answer at `delta` (or plain text), ending with `done`; an event
    named `error_event` is the target's explicit error. `format: text` is a chunked plain
    text answer that simply ends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["sse", "text"] = "sse"
    delta: str = Field(default="$.delta", description="JSON path of the piece in each event")
    done: str = Field(default="[DONE]", description="the data of the last event")
    error_event: str = Field(default="error", description="the event name of an error")


class ContractSpec(BaseModel):
    """What a normal answer must look like (checked on the value at `response.answer`): a
    JSON schema, required fields of a JSON object, a maximum length of a text. An answer
    off its contract is an `error` for the user who got it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    json_schema: dict[str, Any] | None = None
    required: tuple[str, ...] = ()
    max_length: int | None = Field(default=None, ge=1)

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """A schema that is not one is an input error now, not a failure per answer."""
        if value is not None:
            from jsonschema import exceptions, validators

            validator = validators.validator_for(value, default=validators.Draft202012Validator)
            try:
                validator.check_schema(value)
            except exceptions.SchemaError as exc:
                raise ValueError(f"not a valid JSON schema: {exc.message}") from None
        return value

    @property
    def declared(self) -> bool:
        return self.json_schema is not None or bool(self.required) or self.max_length is not None


class ResponseSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: str = "$.answer"
    degraded: SignalSpec = SignalSpec()
    refusal: SignalSpec = Field(
        default_factory=SignalSpec,
        description="how the target declines a request (a safe refusal, not an error)",
    )
    disclosure: DisclosureSpec = Field(
        default_factory=DisclosureSpec,
        description="how an answer says it is AI-generated (governance.ai_disclosure)",
    )
    link_hosts: tuple[str, ...] = Field(
        default=(),
        description="hosts links and images in answers may point to; any other host is unsafe",
    )
    stream: StreamSpec | None = Field(default=None, description="the answer is streamed")
    contract: ContractSpec = Field(
        default_factory=ContractSpec, description="what a normal answer must look like"
    )


class BudgetSpec(BaseModel):
    """The target's declared cost budget (cost.per_request, cost.budget_enforced, the
    monthly projection)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_request_usd: float | None = Field(default=None, gt=0)
    per_user_tokens_per_minute: int | None = Field(default=None, gt=0)
    daily_requests: int | None = Field(default=None, gt=0)


class LimitsSpec(BaseModel):
    """The target's declared caps (cost.input_limit, cost.output_cap)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_tokens: int | None = Field(default=None, gt=0)
    output_tokens: int | None = Field(default=None, gt=0)


class TargetFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    version: Literal[1] = 1
    name: str
    start: StartSpec | None = None
    request: RequestSpec
    response: ResponseSpec = ResponseSpec()
    non_ai_endpoints: tuple[EndpointCall, ...] = ()
    sla: Duration | None = Field(default=None, gt=0)
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    # What the target exposes for the probed items (gaplab.engine.probes); all optional.
    health: HealthSpec | None = None
    metrics: MetricsSpec | None = None
    kill_switch: KillSwitchSpec | None = None
    write: WriteSpec | None = None
    enrichment: EnrichmentSpec | None = None

    @field_validator("non_ai_endpoints", mode="before")
    @classmethod
    def _endpoints(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [_endpoint_call(item) for item in value]
        return value


def split_endpoint(value: str) -> tuple[str, str]:
    """`"GET /health"` -> `("GET", "/health")` (validated by the models above)."""
    return _split_endpoint(value)
