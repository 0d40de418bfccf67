"""resilience.fallback: during an outage users get a degraded answer, never an error."""

from __future__ import annotations

from collections import Counter
from typing import Any

from gaplab.checks.base import Check, CheckContext, CheckResult, Verdict, examples
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
        windows = [w for w in ctx.record.phases if w.outage]
        if not windows:
            return self.result(Verdict.NOT_RUN, "the scenario has no outage phase")
        requests = [r for w in windows for r in ctx.record.requests_in(w)]
        if not requests:
            return self.result(Verdict.NOT_RUN, "no user request started during the outage")
        counts = outcome_counts(requests)
        bad = [r for r in requests if r.outcome in ("error", "unsafe")]
        reasons = Counter(r.detail for r in bad)
        numbers: dict[str, Any] = {
            "requests": len(requests),
            **counts,
            "error_reasons": dict(reasons.most_common(5)),
        }
        phase = ", ".join(w.name for w in windows)
        if bad:
            top = ", ".join(f"{n}× {d}" for d, n in reasons.most_common(3))
            return self.result(
                Verdict.FAIL,
                f"{len(bad)} of {len(requests)} requests failed during the outage ({top})",
                numbers=numbers,
                phase=phase,
                examples=examples([r.request_id for r in bad]),
            )
        if counts["degraded"] == 0:
            return self.result(
                Verdict.WARN,
                f"no request failed, but none was degraded either: "
                f"the outage did not reach users ({counts['ok']} ok)",
                numbers=numbers,
                phase=phase,
            )
        return self.result(
            Verdict.PASS,
            f"{counts['degraded']} degraded and {counts['ok']} ok "
            f"answers, no errors during the outage",
            numbers=numbers,
            phase=phase,
        )
