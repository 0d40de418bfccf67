"""The suite file (`scenarios/readiness.yaml`): several scenarios run as one, merged into one
scorecard (gaplab.suite).

    version: 1
    suite: readiness                 # marks the file as a suite (and names it)
    title: Is this AI feature ready for production?
    target: demo:naive               # default target of every scenario (--target overrides)
    attest: readiness.attest.yaml    # the attestation file (--attest overrides)
    fail_under: 80                   # overall score needed for exit 0
    concurrency: 2                   # scenarios played at once (separate processes)
    time_scale: 1.0                  # every phase this many times as long (min 2 s)
    scenarios:
      - outage
      - {scenario: model_swap, target: my-json-service.yaml}
      - {scenario: long_conversation, time_scale: 1}   # its own time scale

Strict like every file the lab reads; a scenario entry names a bundled scenario or a file
(relative to the suite file). Whether the scenarios exist and are valid is checked by
gaplab.suite.loading, which locates each problem at its line.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gaplab.checks.scoring import DEFAULT_FAIL_UNDER


class SuiteEntry(BaseModel):
    """One scenario of the suite: `- outage` is short for `- {scenario: outage}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = Field(min_length=1, description="a bundled scenario's name, or a file")
    target: str | None = Field(
        default=None, description="this scenario's target, if not the suite's"
    )
    time_scale: float | None = Field(
        default=None, gt=0, le=1, description="this scenario's phase length factor"
    )


class SuiteFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    suite: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    description: str = ""
    target: str = "demo:naive"
    attest: str | None = Field(default=None, description="the attestation file")
    fail_under: float = Field(default=DEFAULT_FAIL_UNDER, ge=0, le=100)
    concurrency: int = Field(default=2, ge=1, le=8, description="scenarios played at once")
    time_scale: float = Field(default=1.0, gt=0, le=1, description="phase length factor")
    scenarios: tuple[SuiteEntry, ...] = Field(min_length=1)

    @field_validator("scenarios", mode="before")
    @classmethod
    def _short_entries(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"scenario": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _distinct(self) -> SuiteFile:
        names = [e.scenario for e in self.scenarios]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"scenarios listed twice: {', '.join(twice)}")
        return self


def looks_like_suite(data: Any) -> bool:
    """A YAML document is a suite when it says `suite:` at the top (a scenario never does)."""
    return isinstance(data, dict) and "suite" in data and "phases" not in data
