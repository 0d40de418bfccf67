"""Scenario files: a timeline of phases with faults, over steady traffic from virtual users.

Strict pydantic models (`extra="forbid"`): a misspelt key is an error that names the file,
line and field (see `gaplab.scenario.loader`). The reference is docs/scenarios.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from gaplab.netfault.spec import NetworkFault
from gaplab.provider.faults import ProviderFault
from gaplab.scenario.durations import Duration
from gaplab.scenario.load_models import LoadSpec, Rate

__all__ = ["LoadSpec", "Phase", "Scenario"]


class FaultEntry(BaseModel):
    """One fault in a phase: at the provider (semantic) or on the network path (a toxic)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderFault | None = None
    network: NetworkFault | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> FaultEntry:
        if (self.provider is None) == (self.network is None):
            raise ValueError("each fault is either `provider:` or `network:`, exactly one")
        return self

    @property
    def is_outage(self) -> bool:
        fault = self.provider or self.network
        assert fault is not None
        return fault.is_outage

    @property
    def slowness(self) -> float:
        fault = self.provider or self.network
        assert fault is not None
        return fault.slowness

    @property
    def source(self) -> str:
        return "provider" if self.provider is not None else "network"

    def describe(self) -> str:
        fault = self.provider or self.network
        assert fault is not None
        return fault.describe()


class Phase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1)
    duration: Duration = Field(alias="for", gt=0)
    faults: tuple[FaultEntry, ...] = ()
    users: int | None = Field(default=None, ge=0, le=10_000, description="users in this phase")
    arrival: Rate | None = Field(
        default=None, ge=0, le=100_000, description="open model: the arrival rate in this phase"
    )
    kill_switch: bool = Field(
        default=False,
        description="the lab turns the target's AI off (its declared kill switch) for this phase",
    )

    @property
    def faulty(self) -> bool:
        return bool(self.faults)

    @property
    def outage(self) -> bool:
        """Some fault makes (matching) provider calls fail or never answer."""
        return any(f.is_outage for f in self.faults)

    @property
    def slow(self) -> float:
        """Seconds of delay the faults add to a provider call (infinity for a hang)."""
        return max((f.slowness for f in self.faults), default=0.0)


class CheckRef(BaseModel):
    """A check in a scenario: its id and, optionally, options overriding its defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    options: dict[str, Any] = Field(default_factory=dict)


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max: float | None = None
    min: float | None = None
    phase: str | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Threshold:
        if self.max is None and self.min is None:
            raise ValueError("a threshold needs `max` or `min`")
        return self


ThresholdMetric = Literal[
    "user_p50_ms",
    "user_p95_ms",
    "user_p99_ms",
    "ok_rate",
    "error_rate",
    "degraded_rate",
    "amplification",
]


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str
    description: str = ""
    target: str = "demo:naive"
    interface: Literal["chat", "stream", "json"] = Field(
        default="chat",
        description="which endpoint of a bundled demo the scenario drives: its chat answer, "
        "its streamed chat, or its JSON answer (a target file is used as it is)",
    )
    provider: str = "openai"
    seed: int = 1
    sla: Duration = Field(default=10.0, gt=0, description="the target's answer-time SLA")
    load: LoadSpec = LoadSpec()
    phases: tuple[Phase, ...] = Field(min_length=1)
    checks: tuple[CheckRef, ...] = ()
    thresholds: dict[ThresholdMetric, Threshold] = Field(default_factory=dict)

    @field_validator("checks", mode="before")
    @classmethod
    def _check_refs(cls, value: Any) -> Any:
        """Accept `- resilience.timeout` and `- resilience.timeout: {sla: 5s}`."""
        if not isinstance(value, list | tuple):
            return value
        refs: list[Any] = []
        for item in value:
            if isinstance(item, str):
                refs.append({"id": item})
            elif isinstance(item, dict) and len(item) == 1 and "id" not in item:
                ((check_id, options),) = item.items()
                refs.append({"id": check_id, "options": options or {}})
            else:
                refs.append(item)
        return refs

    @model_validator(mode="after")
    def _unique_phases(self) -> Scenario:
        names = [phase.name for phase in self.phases]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"phase names must be unique, repeated: {', '.join(duplicates)}")
        for metric, threshold in self.thresholds.items():
            if threshold.phase is not None and threshold.phase not in names:
                raise ValueError(f"threshold {metric}: no phase named {threshold.phase!r}")
        greedy = self.load.greedy
        for name in greedy.phases if greedy is not None else ():
            if name not in names:
                raise ValueError(f"load.greedy.phases: no phase named {name!r}")
        self._phase_load_fits()
        return self

    def _phase_load_fits(self) -> None:
        """A phase's `users` is for closed users, its `arrival` for open arrivals."""
        errors = []
        for index, phase in enumerate(self.phases):
            if phase.arrival is not None and not self.load.open:
                field, message = (
                    "arrival",
                    (
                        "a phase arrival rate needs open load: set `load.arrival` (or "
                        "`load.stages`), or give this phase `users:` instead"
                    ),
                )
            elif phase.users is not None and self.load.open:
                field, message = (
                    "users",
                    (
                        "under open load (`load.arrival`) a phase sets its `arrival` rate, "
                        "not `users`"
                    ),
                )
            else:
                continue
            errors.append(
                InitErrorDetails(
                    type=PydanticCustomError("load_model", message),
                    loc=("phases", index, field),
                    input=getattr(phase, field),
                )
            )
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)

    @property
    def duration(self) -> float:
        return sum(phase.duration for phase in self.phases)

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)

    def baseline(self) -> Phase | None:
        """The last fault-free phase before the first faulty one."""
        baseline = None
        for phase in self.phases:
            if phase.faulty:
                break
            baseline = phase
        return baseline

    def after(self, phase: Phase) -> Phase | None:
        """The phase right after `phase`, when it is fault-free (its recovery)."""
        index = self.phases.index(phase)
        later = self.phases[index + 1] if index + 1 < len(self.phases) else None
        return later if later is not None and not later.faulty else None

    @property
    def uses_network_faults(self) -> bool:
        return any(f.network is not None for p in self.phases for f in p.faults)
