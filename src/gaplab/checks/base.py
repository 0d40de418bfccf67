"""What a check is: an id, a title, an area, whether it is critical, a "why it matters"
paragraph, typed options with the checklist's defaults, and a pure `evaluate`.

A result always carries the evidence that decided it: the numbers, the phase, and example
request ids a user can look up in the journal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from gaplab.engine.record import RunRecord
from gaplab.scenario.models import Scenario


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    NOT_RUN = "not_run"


class EvidenceKind(StrEnum):
    MEASURED = "measured"
    PROBED = "probed"
    ATTESTED = "attested"


@dataclass(frozen=True)
class Evidence:
    kind: EvidenceKind = EvidenceKind.MEASURED
    numbers: dict[str, Any] = field(default_factory=dict)
    phase: str | None = None
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    area: str
    critical: bool
    verdict: Verdict
    summary: str
    why: str
    evidence: Evidence = Evidence()


class CheckOptions(BaseModel):
    """Options a scenario may set for a check; subclasses add fields with defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class CheckContext:
    scenario: Scenario
    record: RunRecord
    sla: float
    partial: bool = False  # the run was interrupted


class Check:
    id: ClassVar[str]
    title: ClassVar[str]
    area: ClassVar[str]
    critical: ClassVar[bool] = False
    why: ClassVar[str]
    Options: ClassVar[type[CheckOptions]] = CheckOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        raise NotImplementedError

    def result(self, verdict: Verdict, summary: str, **evidence: Any) -> CheckResult:
        return CheckResult(
            self.id,
            self.title,
            self.area,
            self.critical,
            verdict,
            summary,
            self.why,
            Evidence(**evidence),
        )


def examples(ids: list[str], limit: int = 5) -> tuple[str, ...]:
    return tuple(ids[:limit])


def ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"
