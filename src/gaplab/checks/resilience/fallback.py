"""resilience.fallback: during an outage users get a degraded answer, never an error."""

from __future__ import annotations

from collections import Counter
from typing import Any

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckResult,
    Undecided,
    Verdict,
    examples,
    margin_none_of,
)
from gaplab.checks.resilience.outage import affected_requests
from gaplab.checks.stats import outcome_counts


class FallbackCheck(Check):
    id = "resilience.fallback"
    title = "During an outage users get a degraded answer, never an error or a hang"
    area = "resilience"
    critical = True
    why = (
        "All providers have incidents. Without a fallback the AI feature, and often the page "
        "around it, shows a 500 or spins forever; with one, users read 'temporarily "
        "unavailable' and carry on with everything else."
    )

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        phases = ctx.phases_where(lambda p: p.outage)
        if not phases:
            raise Undecided("the scenario has no outage phase (a fault that makes calls fail)")
        requests = [r for p in phases for r in affected_requests(ctx, p, ctx.experiment(p))]
        phase = ", ".join(p.name for p in phases)
        if not requests:
            raise Undecided(f"no user request reached the fault in {phase}", phase=phase)
        counts = outcome_counts(requests)
        bad = [r for r in requests if r.outcome in ("error", "unsafe")]
        reasons = Counter(r.detail or r.outcome for r in bad)
        numbers: dict[str, Any] = {
            "requests": len(requests),
            **counts,
            "error_reasons": dict(reasons.most_common(5)),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phase,
            "margin": margin_none_of(len(bad), len(requests)),
            "limit": "no error or unsafe answer",
        }
        if bad:
            top = ", ".join(f"{n}× {d}" for d, n in reasons.most_common(3))
            return self.result(
                Verdict.FAIL,
                f"{len(bad)} of {len(requests)} requests failed during {phase} ({top})",
                examples=examples(r.request_id for r in bad),
                **evidence,
            )
        if counts["degraded"] == 0:
            return self.result(
                Verdict.WARN,
                f"no request failed, but none was degraded either: "
                f"the fault did not reach users ({counts['ok']} ok)",
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"{counts['degraded']} degraded and {counts['ok']} ok answers during {phase}, no error",
            **evidence,
        )
