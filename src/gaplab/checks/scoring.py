"""The scorecard: per-area and overall scores, and the readiness verdict.

A pass counts 1, a warn 0.5, a fail 0; `not_run` items are left out of the score and listed.
Critical items gate the verdict: one critical fail means "not ready" whatever the score.

Attested items (evidence kind `attested`: a person's answer, not the run's) are scored in
their own column, `attested_score` and `attested_areas`, and never in `score` or `areas`:
readiness is decided on measured and probed evidence only, so a scorecard of attested
answers alone is no verdict.

No READY without evidence: a run that did not finish (`complete` false: interrupted,
failed, killed), a run in which a fault hit nothing (the experiment did not happen), and a
scorecard with nothing decided are never ready.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from gaplab.checks.base import CheckResult, EvidenceKind, Verdict

_POINTS = {Verdict.PASS: 1.0, Verdict.WARN: 0.5, Verdict.FAIL: 0.0}
DEFAULT_FAIL_UNDER = 80.0


@dataclass(frozen=True)
class Scorecard:
    results: tuple[CheckResult, ...]
    areas: dict[str, float | None]  # area -> score in percent (None: nothing decided)
    score: float | None
    critical_failures: tuple[str, ...]
    fail_under: float
    ready: bool
    complete: bool = True  # the run played its whole timeline
    stopped: str = ""  # why it did not, when it did not
    missed_faults: tuple[str, ...] = ()  # faults that hit nothing: experiments not done
    attested_score: float | None = None  # the attested items' own column
    attested_areas: dict[str, float | None] | None = None

    @property
    def counts(self) -> dict[str, int]:
        counts = {v.value: 0 for v in Verdict}
        for result in self.results:
            counts[result.verdict.value] += 1
        return counts


def _score(results: list[CheckResult]) -> float | None:
    decided = [_POINTS[r.verdict] for r in results if r.verdict in _POINTS]
    return 100 * sum(decided) / len(decided) if decided else None


def score(
    results: list[CheckResult],
    fail_under: float = DEFAULT_FAIL_UNDER,
    *,
    complete: bool = True,
    stopped: str = "",
    missed_faults: tuple[str, ...] = (),
) -> Scorecard:
    by_area: dict[str, list[CheckResult]] = defaultdict(list)
    attested_by_area: dict[str, list[CheckResult]] = defaultdict(list)
    measured = [r for r in results if r.evidence.kind is not EvidenceKind.ATTESTED]
    attested = [r for r in results if r.evidence.kind is EvidenceKind.ATTESTED]
    for result in measured:
        by_area[result.area].append(result)
    for result in attested:
        attested_by_area[result.area].append(result)
    overall = _score(measured)
    critical = tuple(r.id for r in measured if r.critical and r.verdict is Verdict.FAIL)
    ready = (
        complete
        and not missed_faults
        and not critical
        and overall is not None
        and overall >= fail_under
    )
    return Scorecard(
        tuple(results),
        {a: _score(rs) for a, rs in by_area.items()},
        overall,
        critical,
        fail_under,
        ready,
        complete,
        stopped,
        missed_faults,
        _score(attested),
        {a: _score(rs) for a, rs in attested_by_area.items()},
    )
