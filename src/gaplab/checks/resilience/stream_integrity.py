"""resilience.stream_integrity: a stream the provider breaks (cut, stalled, malformed,
errored, out of order) never reaches the user as a silent or complete-looking answer, and a
stalled one ends within the SLA."""

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
from gaplab.checks.resilience.joined import (
    Joined,
    faulty_phases,
    hit_by,
    joined,
    phase_calls,
    request_evidence,
)
from gaplab.provider.faults import ProviderFault

BROKEN = frozenset({"cut", "stall", "malformed_json", "half_line", "error_event", "wrong_order"})
NEEDS = (
    "needs a phase that breaks streamed answers (provider: {stream: cut | stall | "
    "malformed_json | half_line | error_event | wrong_order})"
)


def _breaks_streams(fault: ProviderFault) -> bool:
    return fault.stream in BROKEN


def problem(item: Joined, sla: float) -> str | None:
    """How the user's stream went wrong, or None when the failure was explicit."""
    request = item.request
    if request.outcome in ("degraded", "refused", "unsafe"):
        return None  # a fallback or a refusal is explicit; a leak is another check's
    if request.latency > sla:
        return f"it took {request.latency:.1f}s (SLA {sla:g}s)"
    if request.stream_end == "done":
        return "it ended as complete" + (" and ok" if request.outcome == "ok" else "")
    if request.stream_end in ("cut", "stalled"):
        return "it ended silently, short of done" if request.stream_end == "cut" else "stalled"
    return None  # the target's error event, or an explicit HTTP error


class StreamIntegrityCheck(Check):
    id = "resilience.stream_integrity"
    title = "A broken stream never reaches the user as a whole answer"
    area = "resilience"
    why = (
        "A streamed answer arrives piece by piece, so when the provider's stream breaks the "
        "user already has half an answer on screen. Unless the feature says so (an error "
        "event, a retry button), that half looks like the whole, and a stalled stream "
        "leaves the cursor blinking forever."
    )

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        if ctx.target is not None and ctx.target.response.stream is None:
            raise Undecided(
                "the target declares no streamed response (add response.stream to the target "
                "file, or use interface: stream with a demo)"
            )
        phases = faulty_phases(ctx, _breaks_streams, NEEDS)
        name = ", ".join(p.name for p, _ in phases)
        broken = [
            c for p, faults in phases for c in phase_calls(ctx, p) if c.stream and hit_by(c, faults)
        ]
        items = [i for i in joined(ctx, broken) if i.last.call_id in {c.call_id for c in broken}]
        if not items:
            raise Undecided(f"no user request could be joined to a broken stream in {name}")
        failures = [(i, why) for i in items if (why := problem(i, ctx.sla)) is not None]
        ends = Counter(i.request.stream_end or f"HTTP {i.request.status}" for i in items)
        slowest = max(i.request.latency for i in items)
        numbers: dict[str, Any] = {
            "requests": len(items),
            "silent_or_whole": len(failures),
            "stream_ends": dict(ends),
            "max_latency_s": round(slowest, 3),
            "sla_s": ctx.sla,
            "failures": [request_evidence(i, problem=why) for i, why in failures[:5]],
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": name,
            "margin": margin_none_of(len(failures), len(items)),
            "limit": "every broken stream ends with an explicit error, within the SLA",
        }
        if failures:
            first, why = failures[0]
            reasons = Counter(w.split(" (")[0] for _, w in failures)
            top = ", ".join(f"{n}× {r}" for r, n in reasons.most_common(3))
            return self.result(
                Verdict.FAIL,
                f"{len(failures)} of {len(items)} broken streams reached users as if whole or "
                f"silently cut ({top}; e.g. {first.request.request_id}: {why})",
                examples=examples(i.request.request_id for i, _ in failures),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"all {len(items)} broken streams ended explicitly ("
            + ", ".join(f"{n} {e}" for e, n in ends.most_common())
            + f"), the slowest after {slowest:.1f}s",
            **evidence,
        )
