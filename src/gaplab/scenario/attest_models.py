"""The attestation file (`readiness.attest.yaml`): a person's answers to the items no run
can measure (tests exist, a data map exists, the provider's terms were read...).

    version: 1
    max_age: 180d              # older answers are `warn` (default 180 days)
    items:
      testing.unit:
        answer: yes            # yes | no | partial
        who: Dana Smith (QA lead)
        when: 2026-03-02
        link: https://ci.example.com/support-bot/tests
        note: the AI client is mocked with gaplab's pytest plugin

Strict like every file the lab reads (unknown keys are errors at their line); YAML's `yes`
and `no` may be written bare. `who`, `when` and a `link` or a `note` are required: an
answer nobody signed, dated or backed is not evidence. Unknown item ids are reported by
`gaplab.checks.attested.load_attestation`, which knows the items.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_MAX_AGE_DAYS = 180
_AGE = re.compile(r"^\s*(\d+)\s*(d|w|y)?\s*$")
_AGE_DAYS = {"d": 1, "w": 7, "y": 365, None: 1}

Answer = Literal["yes", "no", "partial"]


def parse_age(value: Any) -> int:
    """Days from `180d`, `26w`, `1y` or a bare number of days."""
    if isinstance(value, bool):
        raise ValueError("expected an age such as 180d, 26w or 1y")
    if isinstance(value, int):
        days = value
    elif isinstance(value, str) and (match := _AGE.match(value)):
        days = int(match.group(1)) * _AGE_DAYS[match.group(2)]
    else:
        raise ValueError(f"{value!r} is not an age (use e.g. 180d, 26w or 1y)")
    if not 1 <= days <= 3650:
        raise ValueError("an age must be between 1 day and 10 years")
    return days


class AttestedAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: Answer
    who: str = Field(min_length=1, description="who answers for it (name, role)")
    when: datetime.date = Field(description="when it was last confirmed (YYYY-MM-DD)")
    link: str | None = Field(default=None, min_length=1, description="where the evidence is")
    note: str | None = Field(default=None, min_length=1)

    @field_validator("answer", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML 1.1 reads a bare yes / no as a boolean
            return "yes" if value else "no"
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("when")
    @classmethod
    def _not_in_the_future(cls, value: datetime.date) -> datetime.date:
        if value > datetime.date.today() + datetime.timedelta(days=1):
            raise ValueError(f"{value.isoformat()} is in the future")
        return value

    @model_validator(mode="after")
    def _backed(self) -> AttestedAnswer:
        if self.link is None and self.note is None:
            raise ValueError("give a `link` to the evidence or a `note` saying what it is")
        return self


class AttestationFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    max_age: int = Field(default=DEFAULT_MAX_AGE_DAYS, description="days an answer stays fresh")
    items: dict[str, AttestedAnswer] = Field(default_factory=dict)

    @field_validator("max_age", mode="before")
    @classmethod
    def _age(cls, value: Any) -> int:
        return parse_age(value)

    @field_validator("items", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return {} if value is None else value  # `items:` with every answer commented out
