"""cost.input_limit ★: an oversized input is refused fast with a 4xx and no upstream call,
or cut to the cap before it is sent; it is never paid for whole.

A refusal is a 4xx other than 429 (413, 400, 422...) or a declared refusal or fallback
answer. A 429 tells the user to try again later, and a paste over the cap never fits
however long they wait: it is a rate limit that happened to stop the paste (the hardened
demo's quota does, for a 25,000-token paste against 20,000 tokens a minute), not a limit
on the input.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import Field

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckResult,
    Verdict,
    closest,
    examples,
    margin_none_of,
)
from gaplab.checks.cost.common import (
    DEFAULT_INPUT_CAP,
    last_user_tokens,
    limits,
    needs,
    prices,
    run_requests,
)
from gaplab.checks.security.exposure import SecurityOptions, question_health
from gaplab.checks.stats import percentile
from gaplab.engine.events import UserRequestFinished
from gaplab.metrics.cost import call_cost
from gaplab.metrics.prices import profile_for
from gaplab.provider.journal import ProviderCall
from gaplab.provider.profiles import ProviderProfile
from gaplab.scenario.durations import Duration


class InputLimitOptions(SecurityOptions):
    cap_tokens: int | None = Field(
        default=None,
        gt=0,
        description="the input cap (default: the target's limits.input_tokens, else 8,000)",
    )
    fast: Duration = Field(default=2.0, gt=0, description="a refusal must come within this")
    tolerance: float = Field(
        default=0.1, ge=0, le=1, description="a cut input may be this much over (counts differ)"
    )


class InputLimitCheck(Check):
    id = "cost.input_limit"
    title = "An oversized input is refused fast, or cut to the cap, before it is paid for"
    area = "cost"
    critical = True
    why = (
        "Someone pastes a 50-page document, or a script sends a megabyte of text: every "
        "token of it is billed, again on every retry, and past the model's context window "
        "the provider refuses it anyway. A feature that caps its input refuses it at once "
        "(a 4xx the user can act on, no upstream call) or sends only what fits the cap."
    )
    Options = InputLimitOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        requests, phases = run_requests(ctx)
        cap = options.cap_tokens or limits(ctx).input_tokens or DEFAULT_INPUT_CAP
        oversized = [r for r in requests if r.input_tokens > cap]
        if not oversized:
            raise needs(
                f"no input above the {cap:,}-token cap was sent",
                "documents of 50 pages (`inputs: {documents: {pages: 50}}`)",
            )
        health = question_health(ctx, options)
        join = ctx.record.join()
        table = prices(ctx)
        allowed = cap * (1 + options.tolerance)
        refused: list[UserRequestFinished] = []
        trimmed: list[UserRequestFinished] = []
        slow: list[UserRequestFinished] = []
        failed: list[UserRequestFinished] = []  # no call, and no clean refusal either
        throttled: list[UserRequestFinished] = []  # no call, a 429: "try again later"
        sent: list[tuple[UserRequestFinished, int]] = []  # went to the provider too big
        calls: list[ProviderCall] = []
        for request in oversized:
            joined = join.calls_for(request.request_id)
            calls += joined
            if not joined:
                clean = 400 <= request.status < 500 or request.outcome in ("refused", "degraded")
                if request.status == 429:
                    throttled.append(request)
                elif not clean:
                    failed.append(request)
                elif request.latency > options.fast:
                    slow.append(request)
                else:
                    refused.append(request)
                continue
            biggest = max(last_user_tokens(c) for c in joined)
            if biggest <= allowed:
                trimmed.append(request)
            else:
                sent.append((request, biggest))
        bad = [r for r, _ in sent] + throttled + slow + failed
        provider_refused = [c for c in calls if c.status == 400]
        profile = profile_for(ctx.scenario.provider)
        numbers: dict[str, Any] = {
            "oversized_inputs": len(oversized),
            "input_tokens_p50": percentile([float(r.input_tokens) for r in oversized], 50),
            "cap_tokens": cap,
            "refused_fast": len(refused),
            "cut_to_cap": len(trimmed),
            "sent_whole": len(sent),
            "refused_slowly": len(slow),
            "throttled_429": len(throttled),
            "failed": len(failed),
            "statuses": dict(Counter(str(r.status) for r in oversized).most_common()),
            "provider_saw_max_tokens": max((c.tokens_in for c in calls), default=0),
            "provider_refused": len(provider_refused),
            "provider_refused_codes": dict(
                Counter(_refusal(c, profile) for c in provider_refused).most_common()
            ),
            "usd": sum(call_cost(c, table) for c in calls),
            "refusal_p95_s": percentile([r.latency for r in refused + slow], 95),
            "questions": health.asked,
            "questions_ok_share": round(health.share, 3),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phases,
            "margin": closest(margin_none_of(len(bad), len(oversized)), health.margin),
            "limit": (
                f"every input over {cap:,} tokens refused with a 4xx (not 429) within "
                f"{options.fast:g} s and no upstream call, or sent cut to the cap; "
                f"≥ {health.minimum:.0%} of questions answered"
            ),
        }
        problems = []
        if sent:
            first, tokens = sent[0]
            problems.append(
                f"{len(sent)} of {len(oversized)} inputs over the {cap:,}-token cap reached "
                f"the provider whole (e.g. {first.request_id}: {first.input_tokens:,} tokens "
                f"in, {tokens:,} sent, HTTP {first.status} to the user; "
                f"${numbers['usd']:.4f} paid for them)"
            )
        if provider_refused:
            problems.append(
                f"the provider itself refused {len(provider_refused)} calls for them "
                f"({next(iter(numbers['provider_refused_codes']))}: it counted up to "
                f"{numbers['provider_saw_max_tokens']:,})"
            )
        if throttled:
            problems.append(
                f"{len(throttled)} of {len(oversized)} got a 429 (try again later) instead of "
                f"being refused for their size (e.g. {throttled[0].request_id}): an input over "
                "the cap never fits, however long the user waits"
            )
        if failed:
            problems.append(
                f"{len(failed)} got neither an answer nor a clean refusal "
                f"(e.g. {failed[0].request_id}: HTTP {failed[0].status})"
            )
        if slow:
            problems.append(
                f"{len(slow)} were refused only after more than {options.fast:g} s "
                f"(e.g. {slow[0].request_id}: {slow[0].latency:.2f} s)"
            )
        if not health.healthy:
            problems.append(health.problem())
        if problems:
            return self.result(
                Verdict.FAIL,
                "; ".join(problems),
                examples=examples(r.request_id for r in bad),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"none of {len(oversized)} inputs over the {cap:,}-token cap (about "
            f"{numbers['input_tokens_p50']:,.0f} tokens each) was paid for whole: "
            f"{len(refused)} refused fast (HTTP {', '.join(numbers['statuses'])}, p95 "
            f"{(numbers['refusal_p95_s'] or 0) * 1000:.0f} ms), {len(trimmed)} cut to the cap; "
            f"{health.share:.0%} of {health.asked} questions answered",
            **evidence,
        )


def _refusal(call: ProviderCall, profile: ProviderProfile | None) -> str:
    """Why the provider answered 400: the prompt was over the model's context window
    (`context_length_exceeded`), or something else in the request."""
    spec = None
    if profile is not None:
        spec = profile.find_model(call.model_served or call.model_requested) or profile.default
    if spec is not None and call.tokens_in > spec.context_window:
        return f"context_length_exceeded (over {spec.context_window:,} tokens)"
    return call.fault or "HTTP 400"
