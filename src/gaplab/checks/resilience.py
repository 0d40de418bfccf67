"""Resilience checks (CHECKLIST.md, "Resilience"): timeout, fallback, containment,
circuit breaker, retry storm, recovery.

Each reads the phases the scenario made faulty, the user-side requests and the provider
journal, and decides with the checklist's default numbers unless the scenario overrides them.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from gaplab.checks.base import Check, CheckContext, CheckOptions, CheckResult, Verdict, examples, ms
from gaplab.checks.stats import outcome_counts, percentile, rate
from gaplab.engine.record import PhaseWindow
from gaplab.scenario.durations import Duration


class TimeoutOptions(CheckOptions):
    sla: Duration | None = Field(default=None, gt=0)


class TimeoutCheck(Check):
    id = "resilience.timeout"
    title = "Every AI request answers within the SLA, even when the provider hangs"
    area = "resilience"
    critical = True
    why = (
        "A provider that hangs or needs 45 s instead of 2 s holds every user waiting on it, "
        "and the SDK's default read timeout is ten minutes. Only a timeout of the feature's "
        "own, below its SLA, turns a hang into a quick answer the user can act on."
    )
    Options = TimeoutOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        sla = options.sla or ctx.sla
        windows = [w for w in ctx.record.phases if w.slow > sla]
        if not windows:
            return self.result(
                Verdict.NOT_RUN,
                f"no phase makes the provider slower than the "
                f"{sla:g}s SLA (add a hang or a latency fault)",
            )
        requests = [r for w in windows for r in ctx.record.requests_in(w)]
        if not requests:
            return self.result(
                Verdict.NOT_RUN,
                "no user request started while the provider was slow",
                phase=windows[0].name,
            )
        late = [r for r in requests if r.latency > sla]
        p95 = percentile([r.latency for r in requests], 95)
        announced = sorted(
            {
                c.read_timeout
                for w in windows
                for c in ctx.record.calls_between(w.start, w.end or ctx.record.end)
                if c.read_timeout is not None
            }
        )
        numbers = {
            "requests": len(requests),
            "over_sla": len(late),
            "sla_s": sla,
            "p95_s": p95,
            "max_s": max(r.latency for r in requests),
            "sdk_read_timeout_s": announced,
        }
        phase = ", ".join(w.name for w in windows)
        note = (
            f"; the SDK announced a read timeout of {', '.join(f'{t:g}s' for t in announced)}"
            if announced
            else ""
        )
        if late:
            return self.result(
                Verdict.FAIL,
                f"{len(late)} of {len(requests)} requests took longer than the {sla:g}s SLA "
                f"(max {max(r.latency for r in requests):.1f}s){note}",
                numbers=numbers,
                phase=phase,
                examples=examples([r.request_id for r in late]),
            )
        return self.result(
            Verdict.PASS,
            f"all {len(requests)} requests answered within {sla:g}s (p95 {ms(p95)}){note}",
            numbers=numbers,
            phase=phase,
        )


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


class ContainedOptions(CheckOptions):
    tolerance: float = Field(default=0.5, ge=0, description="allowed p95 growth (0.5 = +50 %)")
    min_slack: Duration = Field(default=0.25, ge=0, description="p95 growth always allowed")
    min_status_kept: float = Field(default=0.99, ge=0, le=1)


class ContainedCheck(Check):
    id = "resilience.contained"
    title = "An AI outage does not spread to the rest of the application"
    area = "resilience"
    critical = True
    why = (
        "The classic incident: the provider returns 503 and the whole application returns "
        "500, because the AI call shares threads, connections or error handling with "
        "everything else. The non-AI parts must not notice the AI is down."
    )
    Options = ContainedOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        if not ctx.record.probes:
            return self.result(
                Verdict.NOT_RUN,
                "the target declares no non-AI endpoints (non_ai_endpoints in the target file)",
            )
        baseline = ctx.record.baseline()
        windows = [w for w in ctx.record.phases if w.outage or w.slow > 0]
        if baseline is None or not windows:
            return self.result(
                Verdict.NOT_RUN, "needs a fault-free baseline phase before a faulty one"
            )
        base = ctx.record.probes_in(baseline)
        if not base:
            return self.result(Verdict.NOT_RUN, "no non-AI probe in the baseline phase")
        base_status = Counter(p.status for p in base).most_common(1)[0][0]
        base_p95 = percentile([p.latency for p in base], 95) or 0.0
        limit = max(base_p95 * (1 + options.tolerance), base_p95 + options.min_slack)
        during = [p for w in windows for p in ctx.record.probes_in(w)]
        if not during:
            return self.result(Verdict.NOT_RUN, "no non-AI probe during the faults")
        kept = sum(1 for p in during if p.status == base_status)
        p95 = percentile([p.latency for p in during], 95) or 0.0
        numbers = {
            "baseline_status": base_status,
            "baseline_p95_s": base_p95,
            "fault_p95_s": p95,
            "p95_limit_s": limit,
            "probes": len(during),
            "status_kept": kept,
        }
        phase = ", ".join(w.name for w in windows)
        problems = []
        if kept < options.min_status_kept * len(during):
            problems.append(
                f"{len(during) - kept} of {len(during)} probes lost their baseline "
                f"status {base_status}"
            )
        if p95 > limit:
            problems.append(f"p95 rose from {ms(base_p95)} to {ms(p95)} (limit {ms(limit)})")
        if problems:
            changed = [p.request_id for p in during if p.status != base_status or p.latency > limit]
            return self.result(
                Verdict.FAIL,
                "; ".join(problems),
                numbers=numbers,
                phase=phase,
                examples=examples(changed),
            )
        return self.result(
            Verdict.PASS,
            f"non-AI endpoints kept status {base_status} and p95 "
            f"{ms(p95)} (baseline {ms(base_p95)})",
            numbers=numbers,
            phase=phase,
        )


def _sustained_outage_windows(ctx: CheckContext) -> list[PhaseWindow]:
    """Phases where every provider call fails: a 5xx/429 always, or a network fault that
    breaks every connection (down, reset, black hole)."""
    windows = []
    for phase in ctx.scenario.phases:
        for fault in phase.faults:
            p, n = fault.provider, fault.network
            steady = (
                p is not None
                and p.error is not None
                and p.error >= 429
                and p.probability == 1
                and p.first is None
                and p.every is None
                and p.match is None
            )
            if steady or (n is not None and n.is_outage and n.toxicity == 1):
                window = ctx.record.phase(phase.name)
                if window is not None and window.end is not None:
                    windows.append(window)
                break
    return windows


@dataclass(frozen=True)
class _SustainedOutage:
    window: PhaseWindow  # the first phase where every provider call fails
    end: float
    baseline_rate: float  # upstream calls per second in the baseline phase


def _sustained_outage(ctx: CheckContext) -> _SustainedOutage | None:
    """The first sustained outage and the baseline upstream rate to compare it with."""
    windows = _sustained_outage_windows(ctx)
    baseline = ctx.record.baseline()
    if not windows or baseline is None or baseline.end is None or windows[0].end is None:
        return None
    calls = len(ctx.record.calls_between(baseline.start, baseline.end))
    return _SustainedOutage(windows[0], windows[0].end, rate(calls, baseline.end - baseline.start))


class BreakerOptions(CheckOptions):
    settle: Duration = Field(default=2.0, ge=0, description="time allowed for the breaker to open")
    drop: float = Field(default=0.8, gt=0, le=1, description="required fall in upstream rate")
    fast: Duration = Field(default=1.0, gt=0, description="user p95 once the breaker is open")


class CircuitBreakerCheck(Check):
    id = "resilience.circuit_breaker"
    title = "A sustained outage opens a circuit: upstream calls stop, users get fast answers"
    area = "resilience"
    why = (
        "Calling a provider that is down wastes money and time, slows every user to the "
        "timeout, and hammers the provider as it tries to recover. A circuit breaker notices "
        "the failures, stops calling for a while, answers at once from the fallback, and "
        "probes now and then to resume when the provider is back."
    )
    Options = BreakerOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        outage = _sustained_outage(ctx)
        if outage is None:
            return self.result(
                Verdict.NOT_RUN,
                "needs a baseline phase and a phase where every "
                "provider call fails (e.g. error: 503)",
            )
        window, end, base_rate = outage.window, outage.end, outage.baseline_rate
        open_from = window.start + options.settle
        if end - open_from < 1.0:
            return self.result(
                Verdict.NOT_RUN,
                f"phase {window.name} is too short to watch a "
                f"breaker after {options.settle:g}s of settling",
                phase=window.name,
            )
        calls = ctx.record.calls_between(window.start, end)
        fault_rate = rate(sum(1 for c in calls if c.t_arrival >= open_from), end - open_from)
        users = ctx.record.requests_in(window, after=options.settle)
        user_p95 = percentile([r.latency for r in users], 95)
        threshold, break_s = _estimate_breaker(calls, window.start)
        after = ctx.record.after(window)
        resumed = None
        if after is not None and after.end is not None:
            resumed = sum(
                1 for c in ctx.record.calls_between(after.start, after.end) if 200 <= c.status < 300
            )
        numbers = {
            "baseline_calls_per_s": round(base_rate, 2),
            "outage_calls_per_s": round(fault_rate, 2),
            "drop": round(1 - fault_rate / base_rate, 3) if base_rate else None,
            "user_p95_s": user_p95,
            "estimated_threshold_calls": threshold,
            "estimated_break_s": break_s,
            "successful_calls_after": resumed,
        }
        problems = []
        if base_rate == 0:
            return self.result(
                Verdict.NOT_RUN,
                "no upstream call in the baseline phase",
                numbers=numbers,
                phase=window.name,
            )
        if fault_rate > (1 - options.drop) * base_rate:
            problems.append(
                f"upstream calls fell only from {base_rate:.1f}/s to "
                f"{fault_rate:.1f}/s (needs a {options.drop:.0%} drop)"
            )
        if user_p95 is not None and user_p95 > options.fast:
            problems.append(f"users waited {ms(user_p95)} at p95 (fast means ≤ {ms(options.fast)})")
        if resumed == 0:
            problems.append("no successful upstream call after the outage: traffic did not resume")
        if problems:
            return self.result(
                Verdict.FAIL, "; ".join(problems), numbers=numbers, phase=window.name
            )
        estimate = ""
        if threshold is not None:
            estimate = f"; opened after ~{threshold} calls"
            if break_s is not None:
                estimate += f", probing every ~{break_s:.1f}s"
        return self.result(
            Verdict.PASS,
            f"upstream calls fell from {base_rate:.1f}/s to "
            f"{fault_rate:.1f}/s, users p95 {ms(user_p95)}{estimate}",
            numbers=numbers,
            phase=window.name,
        )


def _estimate_breaker(
    calls: list[Any], start: float, gap: float = 0.5
) -> tuple[int | None, float | None]:
    """Calls before the first long quiet gap (the threshold), and the typical gap after it
    (the break duration: a half-open probe per break)."""
    times = sorted(c.t_arrival for c in calls)
    if len(times) < 2:
        return None, None
    gaps = [(b - a, i) for i, (a, b) in enumerate(itertools.pairwise(times))]
    first = next((i for g, i in gaps if g >= gap), None)
    if first is None:
        return None, None
    later = [g for g, i in gaps if i >= first and g >= gap]
    return first + 1, percentile(later, 50)


class StormOptions(CheckOptions):
    max_amplification: float = Field(default=3.0, gt=0)
    rate_tolerance: float = Field(
        default=0.25, ge=0, description="upstream rate may exceed baseline by this much"
    )
    amplification_tolerance: float = Field(
        default=0.1, ge=0, description="phase-edge blur allowed on the ratio"
    )


class NoRetryStormCheck(Check):
    id = "resilience.no_retry_storm"
    title = "Persistent 429/503 does not multiply upstream traffic"
    area = "resilience"
    why = (
        "When the provider is rate-limiting or failing, every retry is another request "
        "against a service that already said no. Retries stacked in several layers (SDK, "
        "library, app) turn one user click into nine calls and keep the provider down."
    )
    Options = StormOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        outage = _sustained_outage(ctx)
        if outage is None:
            return self.result(
                Verdict.NOT_RUN, "needs a baseline phase and a phase of persistent 429/503"
            )
        window, end, base_rate = outage.window, outage.end, outage.baseline_rate
        calls = ctx.record.calls_between(window.start, end)
        requests = ctx.record.requests_in(window)
        if not requests or base_rate == 0:
            return self.result(Verdict.NOT_RUN, "no traffic to measure", phase=window.name)
        fault_rate = rate(len(calls), end - window.start)
        amplification = len(calls) / len(requests)
        numbers = {
            "upstream_calls": len(calls),
            "user_requests": len(requests),
            "amplification": round(amplification, 2),
            "baseline_calls_per_s": round(base_rate, 2),
            "outage_calls_per_s": round(fault_rate, 2),
        }
        problems = []
        if amplification > options.max_amplification * (1 + options.amplification_tolerance):
            problems.append(
                f"{amplification:.1f} upstream calls per user request "
                f"(max {options.max_amplification:g})"
            )
        if fault_rate > base_rate * (1 + options.rate_tolerance):
            problems.append(f"upstream rate rose from {base_rate:.1f}/s to {fault_rate:.1f}/s")
        if problems:
            return self.result(
                Verdict.FAIL, "; ".join(problems), numbers=numbers, phase=window.name
            )
        return self.result(
            Verdict.PASS,
            f"{amplification:.2f} upstream calls per user request, "
            f"{fault_rate:.1f}/s against {base_rate:.1f}/s at baseline",
            numbers=numbers,
            phase=window.name,
        )


class RecoveryOptions(CheckOptions):
    within: Duration = Field(default=10.0, ge=0)
    min_ok: float = Field(default=0.95, gt=0, le=1)


class RecoveryCheck(Check):
    id = "resilience.recovery"
    title = "After the fault ends, users get normal answers again within seconds"
    area = "resilience"
    why = (
        "Recovery is where hidden state shows: a breaker that never closes, a poisoned "
        "connection pool, a cache of failures, a queue of stale retries. Users should be "
        "back to normal answers shortly after the provider is."
    )
    Options = RecoveryOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        pairs = [
            (w, a)
            for w in ctx.record.fault_windows()
            if (a := ctx.record.after(w)) is not None and a.end is not None
        ]
        if not pairs:
            return self.result(Verdict.NOT_RUN, "no fault-free phase follows a fault")
        fault, after = pairs[0]
        assert after.end is not None
        if after.end - after.start <= options.within + 1:
            return self.result(
                Verdict.NOT_RUN,
                f"phase {after.name} is too short to judge recovery after {options.within:g}s",
                phase=after.name,
            )
        settled = ctx.record.requests_in(after, after=options.within)
        if not settled:
            return self.result(
                Verdict.NOT_RUN, "no request after the recovery window", phase=after.name
            )
        ok = [r for r in settled if r.outcome == "ok"]
        share = len(ok) / len(settled)
        first_ok = min(
            (r.t for r in ctx.record.requests_in(after) if r.outcome == "ok"), default=None
        )
        numbers = {
            "requests": len(settled),
            "ok": len(ok),
            "ok_share": round(share, 3),
            "within_s": options.within,
            "first_ok_after_s": None if first_ok is None else round(first_ok - after.start, 2),
        }
        if share < options.min_ok:
            not_ok = [r.request_id for r in settled if r.outcome != "ok"]
            return self.result(
                Verdict.FAIL,
                f"only {share:.0%} of requests were ok "
                f"{options.within:g}s after {fault.name} ended (needs "
                f"{options.min_ok:.0%})",
                numbers=numbers,
                phase=after.name,
                examples=examples(not_ok),
            )
        return self.result(
            Verdict.PASS,
            f"{share:.0%} of requests ok from {options.within:g}s after {fault.name} ended",
            numbers=numbers,
            phase=after.name,
        )


RESILIENCE_CHECKS: tuple[Check, ...] = (
    TimeoutCheck(),
    FallbackCheck(),
    ContainedCheck(),
    CircuitBreakerCheck(),
    NoRetryStormCheck(),
    RecoveryCheck(),
)
