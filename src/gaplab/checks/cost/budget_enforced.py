"""cost.budget_enforced: one user far past a per-user quota is throttled by the target
before their upstream spend passes the quota, and the other users do not notice.

The greedy user (`load.greedy`) is measured from the provider's side: the tokens (prompt
and answer, as `usage.total_tokens` counts them) of the billed calls joined to its
requests, in any 60 s sliding window by arrival. The target must keep that within
`budget.per_user_tokens_per_minute` (plus `tolerance`, 25 %: the target estimates tokens
before the call, the provider counts them after, and a quota that lets 25,000 of 20,000
through still stops the user where one without a quota does not), and must have said no to
the user (a 4xx, or a declared refusal or fallback) rather than merely being slow. The
other users, in the greedy user's phases, must still get normal answers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import Field

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckOptions,
    CheckResult,
    Undecided,
    Verdict,
    closest,
    examples,
    margin_at_most,
)
from gaplab.checks.cost.common import budget, needs, prices, run_requests
from gaplab.checks.stats import percentile
from gaplab.load.greedy import GREEDY_USER
from gaplab.metrics.cost import billed, call_cost, tokens_per_minute

WINDOW = 60.0  # seconds: the quota is per minute


class BudgetEnforcedOptions(CheckOptions):
    per_user_tokens_per_minute: int | None = Field(
        default=None, gt=0, description="the quota when the target file declares none"
    )
    tolerance: float = Field(
        default=0.25, ge=0, le=1, description="how far over the quota the provider's count may be"
    )
    min_others_ok: float = Field(
        default=0.95, ge=0, le=1, description="share of the other users' requests answered ok"
    )


class BudgetEnforcedCheck(Check):
    id = "cost.budget_enforced"
    title = "One user bursting far past a quota is throttled before the spend passes it"
    area = "cost"
    why = (
        "A single script, a stuck client or one enthusiastic user can send thousands of "
        "requests an hour, and without a per-user budget the feature pays for every one of "
        "them, then hits the provider's rate limit for everyone else. A quota that stops the "
        "one user (a clean 429 with a Retry-After) before the upstream call keeps the bill "
        "and the others' service where they were."
    )
    Options = BudgetEnforcedOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        greedy_spec = ctx.scenario.load.greedy
        if greedy_spec is None:
            raise needs("no greedy user was sent", "`load: {greedy: {sessions: 8}}`")
        quota = budget(ctx, options).per_user_tokens_per_minute
        if quota is None:
            raise Undecided(
                "declare budget.per_user_tokens_per_minute in the target file (or give "
                "`cost.budget_enforced: {per_user_tokens_per_minute: ...}` in the scenario)"
            )
        requests, phases = run_requests(ctx)
        greedy = [r for r in requests if r.user == GREEDY_USER]
        if not greedy:
            raise Undecided("the greedy user sent no request in the run", phase=phases)
        join = ctx.record.join()
        table = prices(ctx)
        calls = [c for r in greedy for c in join.calls_for(r.request_id) if billed(c)]
        spent, peak_at = tokens_per_minute(
            ((c.t_arrival, c.tokens_in + c.tokens_out) for c in calls), WINDOW
        )
        throttled = [
            r
            for r in greedy
            if not join.calls_for(r.request_id)
            and (400 <= r.status < 500 or r.outcome in ("refused", "degraded"))
        ]
        answered = [r for r in greedy if join.calls_for(r.request_id)]
        per_answer = spent / max(1, len(answered)) if answered else 0.0
        asked = spent + per_answer * len(throttled)  # what the user would have spent
        allowed = quota * (1 + options.tolerance)
        active = set(greedy_spec.phases) or {p.name for p in ctx.scenario.phases}
        others = [r for r in requests if r.user != GREEDY_USER and r.phase in active]
        others_ok = sum(1 for r in others if r.outcome == "ok") / len(others) if others else 1.0
        first = min(throttled, key=lambda r: r.started, default=None)
        origin = ctx.record.phases[0].start if ctx.record.phases else 0.0
        numbers: dict[str, Any] = {
            "quota_tokens_per_minute": quota,
            "greedy_requests": len(greedy),
            "greedy_answered": len(answered),
            "greedy_throttled": len(throttled),
            "greedy_statuses": dict(Counter(str(r.status) for r in greedy).most_common(4)),
            "upstream_tokens_per_minute_max": spent,
            "asked_tokens_per_minute": round(asked),
            "greedy_usd": sum(call_cost(c, table) for c in calls),
            "first_throttled_s": None if first is None else round(first.started - origin, 2),
            "peak_minute_ended_s": None if peak_at is None else round(peak_at - origin, 2),
            "others_requests": len(others),
            "others_ok_share": round(others_ok, 3),
            "others_p95_s": percentile([r.latency for r in others], 95),
        }
        if asked <= quota and not throttled:
            raise Undecided(
                f"the greedy user only asked for {spent:,} tokens a minute, under the "
                f"{quota:,} quota: make it greedier (more sessions, larger inputs)",
                phase=phases,
            )
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phases,
            "examples": examples(r.request_id for r in throttled),
            "margin": closest(
                margin_at_most(spent, allowed),
                margin_at_most(1 - others_ok, 1 - options.min_others_ok)
                if options.min_others_ok < 1
                else None,
            ),
            "limit": (
                f"≤ {quota:,} tokens a minute reach the provider for the greedy user "
                f"(+{options.tolerance:.0%}), and ≥ {options.min_others_ok:.0%} of the "
                "others' requests ok"
            ),
        }
        problems = []
        if spent > allowed:
            problems.append(
                f"the greedy user spent {spent:,} tokens upstream in one minute, "
                f"{spent / quota:.1f}× the {quota:,} quota "
                f"(${numbers['greedy_usd']:.4f}; {len(throttled)} of {len(greedy)} requests "
                "throttled)"
            )
        elif not throttled:
            problems.append(
                f"the greedy user asked for {asked:,.0f} tokens a minute and was never told "
                f"no (statuses {', '.join(numbers['greedy_statuses'])})"
            )
        if others_ok < options.min_others_ok:
            problems.append(
                f"only {others_ok:.0%} of the other users' {len(others)} requests were ok "
                f"(needs {options.min_others_ok:.0%}): they paid for the greedy one"
            )
        if problems:
            return self.result(Verdict.FAIL, "; ".join(problems), **evidence)
        return self.result(
            Verdict.PASS,
            f"the greedy user was throttled after {numbers['first_throttled_s']} s "
            f"({len(throttled)} of {len(greedy)} requests, HTTP "
            f"{', '.join(s for s in numbers['greedy_statuses'] if not s.startswith('2'))}) at "
            f"{spent:,} upstream tokens a minute (quota {quota:,}; it asked for "
            f"{asked:,.0f}); {others_ok:.0%} of the others' {len(others)} requests ok",
            **evidence,
        )
