"""What a check is: an id, a title, an area, whether it is critical, a "why it matters"
paragraph, typed options with the checklist's defaults, and a pure `evaluate`.

A result always carries the evidence that decided it: the numbers, the phase, example
request ids a user can look up in the journal, and, for measured verdicts, the **margin**:
how far the deciding value sits from its limit, relative (positive on the passing side). A
verdict within `BORDERLINE` of its limit is marked borderline in every report.

A check decides only on complete evidence. `CheckContext.ended()` and `covered()` raise
`Undecided` when a phase it needs did not run to its end or its fault hit nothing; the
registry turns that into `not_run` with the true reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from gaplab.engine.record import PhaseWindow, RunRecord
from gaplab.scenario.models import Phase, Scenario
from gaplab.scenario.target_models import TargetFile

BORDERLINE = 0.15  # a measured verdict this close to its limit (relative) is borderline


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
    margin: float | None = None  # relative distance of the deciding value from its limit
    limit: str = ""  # the rule's limit in words, e.g. "≤ 3 upstream calls per request"


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

    @property
    def borderline(self) -> bool:
        margin = self.evidence.margin
        return (
            self.verdict in (Verdict.PASS, Verdict.FAIL, Verdict.WARN)
            and margin is not None
            and abs(margin) < BORDERLINE
        )


class CheckOptions(BaseModel):
    """Options a scenario may set for a check; subclasses add fields with defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Undecided(Exception):
    """The run cannot decide this check: `not_run` with `reason`. `pending` means the run
    is still going and a later evaluation may decide it (live ticking skips it)."""

    def __init__(self, reason: str, *, phase: str | None = None, pending: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.phase = phase
        self.pending = pending


@dataclass(frozen=True)
class CheckContext:
    scenario: Scenario
    record: RunRecord
    sla: float
    status: str = "completed"  # "running" while the run goes; "completed", "interrupted"...
    stopped_at: float | None = None  # run clock when an unfinished run stopped
    target: TargetFile | None = None

    @property
    def partial(self) -> bool:
        return self.status not in ("completed", "running")

    # -- phases the check needs ---------------------------------------------------------
    def phases_where(self, predicate: Callable[[Phase], bool]) -> list[Phase]:
        return [phase for phase in self.scenario.phases if predicate(phase)]

    def ended(self, phase: Phase) -> PhaseWindow:
        """The window of `phase`, which ran to its end; else `Undecided` with the reason."""
        window = self.record.phase(phase.name)
        if window is not None and window.end is not None:
            return window
        if self.status == "running":
            raise Undecided(f"phase {phase.name} has not ended yet", pending=True)
        where = "ended" if window is not None else "started"
        raise Undecided(
            f"the run stopped {self._stopped_text()}, before phase {phase.name} {where}",
            phase=phase.name,
        )

    def _stopped_text(self) -> str:
        stopped = self.stopped_at if self.stopped_at is not None else self.record.end
        origin = self.record.phases[0].start if self.record.phases else stopped
        how = {"interrupted": "was interrupted", "failed": "failed"}.get(self.status, "stopped")
        return f"{max(0.0, stopped - origin):.1f} s into its timeline ({how})"

    def covered(self, phase: Phase) -> None:
        """`Undecided` when a fault of `phase` hit nothing: the experiment did not happen."""
        for coverage in self.record.coverage_of(phase.name):
            if coverage.hits != 0:
                continue
            window = self.record.phase(phase.name)
            calls = (
                self.record.calls_between(window.start, window.end or self.record.end)
                if window is not None
                else []
            )
            asked = Counter(c.model_requested or "(no model)" for c in calls)
            seen = ", ".join(f"{model} ×{n}" for model, n in asked.most_common(4))
            noun = "calls" if coverage.source == "provider" else "connections"
            scope = coverage.fault.partition(" [")[2].rstrip("]")
            reason = f"the fault {coverage.fault.partition(' [')[0]} hit 0 of {len(calls)} {noun}"
            if scope:
                reason += f": {scope}"
            if seen:
                reason += f"; the calls asked for {seen}"
            raise Undecided(reason, phase=phase.name)

    def experiment(self, phase: Phase) -> PhaseWindow:
        """`ended(phase)` and `covered(phase)` in one: a faulty phase that really happened."""
        window = self.ended(phase)
        self.covered(phase)
        return window


class Check:
    id: ClassVar[str]
    title: ClassVar[str]
    area: ClassVar[str]
    critical: ClassVar[bool] = False
    why: ClassVar[str]
    kind: ClassVar[EvidenceKind] = EvidenceKind.MEASURED
    # What the prober must watch for this check (gaplab.engine.probes): "health",
    # "metrics", "write", "enrichment", "kill_switch".
    probes: ClassVar[frozenset[str]] = frozenset()
    Options: ClassVar[type[CheckOptions]] = CheckOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        """The verdict; raise `Undecided` when the run cannot decide it."""
        raise NotImplementedError

    def decide(self, ctx: CheckContext, options: Any) -> CheckResult:
        """`evaluate`, with `Undecided` turned into a `not_run` result."""
        try:
            return self.evaluate(ctx, options)
        except Undecided as undecided:
            return self.result(Verdict.NOT_RUN, undecided.reason, phase=undecided.phase)

    def result(self, verdict: Verdict, summary: str, **evidence: Any) -> CheckResult:
        evidence.setdefault("kind", self.kind)
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


def examples(ids: Iterable[str], limit: int = 5) -> tuple[str, ...]:
    return tuple(list(ids)[:limit])


def ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"


# -- margins: how far a measured value sits from its limit, relative ----------------------
def margin_at_most(value: float, limit: float) -> float:
    """For a rule `value ≤ limit`: positive when it holds, e.g. 0.5 = half the limit."""
    if limit == 0:
        return 1.0 if value <= 0 else -1.0
    return (limit - value) / abs(limit)


def margin_at_least(value: float, limit: float) -> float:
    """For a rule `value ≥ limit`: positive when it holds."""
    if limit == 0:
        return 1.0 if value >= 0 else -1.0
    return (value - limit) / abs(limit)


def margin_none_of(bad: int, total: int) -> float | None:
    """For a rule "none of `total` may be bad": no margin when none is (an exact rule), and
    minus the bad share when some are (one bad in a thousand is a borderline fail)."""
    if bad == 0 or total == 0:
        return None
    return -bad / total


def closest(*margins: float | None) -> float | None:
    """The margin nearest to flipping the verdict among several conditions of one rule:
    the smallest one (a failing condition is negative)."""
    known = [m for m in margins if m is not None]
    return round(min(known), 4) if known else None
