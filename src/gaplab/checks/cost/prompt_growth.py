"""cost.prompt_growth: in a long conversation the prompt each turn sends stops growing:
the history is bounded (last turns, a token budget, a summary), not resent whole.

The rule, per turn number: the median prompt (tokens the provider counted) over the
conversations that reached that turn; then the Theil-Sen slope over the second half of the
`turns` turns. An unbounded history adds every earlier turn to every prompt, so the prompt
grows by about one turn's size per turn to the end; a bounded one plateaus, and its late
slope is near zero. A cap larger than the whole conversation cannot show in `turns` turns:
the check says the prompt still grew, which is what the bill will say too.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import Field

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckOptions,
    CheckResult,
    Undecided,
    Verdict,
    examples,
    margin_at_most,
)
from gaplab.checks.cost.common import needs, prices, run_requests, theil_sen
from gaplab.checks.stats import percentile
from gaplab.metrics.cost import RequestCost, request_costs


class PromptGrowthOptions(CheckOptions):
    turns: int = Field(default=20, ge=4, description="turns each judged conversation reaches")
    max_slope: float = Field(
        default=20.0, ge=0, description="tokens a turn the prompt may still grow by, late on"
    )
    min_conversations: int = Field(default=3, ge=1, description="conversations that must reach it")


class PromptGrowthCheck(Check):
    id = "cost.prompt_growth"
    title = "A long conversation's prompt stays bounded: the history is not resent whole"
    area = "cost"
    why = (
        "A chat feature that resends the whole conversation on every turn pays for turn 1 "
        "twenty times by turn 20: the cost of a conversation grows with the square of its "
        "length, and it ends at the context window as an error. Sending the last turns, a "
        "token budget of them, or a summary keeps every turn's prompt bounded."
    )
    Options = PromptGrowthOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        requests, phases = run_requests(ctx)
        turns = [r for r in requests if r.conversation]
        if not turns:
            add = f"`inputs: {{conversation: {{turns: {options.turns}}}}}`"
            raise needs("no conversation was sent", add)
        long_ones = {r.conversation for r in turns if r.turn >= options.turns}
        if len(long_ones) < options.min_conversations:
            raise Undecided(
                f"needs {options.min_conversations} conversations of {options.turns} turns; "
                f"{len(long_ones)} reached turn {options.turns} "
                f"(longest: {max(r.turn for r in turns)} turns): run longer or send fewer turns",
                phase=phases,
            )
        wanted = {r.request_id for r in turns if r.conversation in long_ones}
        costs = [
            c for c in request_costs(ctx.record, prices(ctx)) if c.request_id in wanted and c.calls
        ]
        by_turn = _medians(costs, options.turns)
        half = options.turns // 2
        late = [(t, p) for t, p in by_turn.items() if t > half]
        if len(late) < 3:
            raise Undecided(
                f"only {len(late)} of turns {half + 1}-{options.turns} reached the provider "
                "(the rest were answered without a call or refused): nothing to fit",
                phase=phases,
            )
        slope = theil_sen(late)
        overall = theil_sen(list(by_turn.items()))
        assert slope is not None
        first_turn, last_turn = min(by_turn), max(by_turn)
        last_requests = [c.request_id for c in costs if c.turn == last_turn]
        numbers: dict[str, Any] = {
            "conversations": len(long_ones),
            "turns": options.turns,
            "late_slope_tokens_per_turn": round(slope, 1),
            "slope_tokens_per_turn": None if overall is None else round(overall, 1),
            "first_turn_tokens": by_turn[first_turn],
            "last_turn_tokens": by_turn[last_turn],
            "largest_prompt_tokens": max(c.prompt_tokens for c in costs),
            "prompt_tokens_per_turn": {str(t): p for t, p in by_turn.items()},
            "cached_tokens_last_turn": percentile(
                [float(c.tokens_cached // c.calls) for c in costs if c.turn == last_turn], 50
            ),
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": phases,
            "margin": round(margin_at_most(slope, options.max_slope), 4),
            "limit": (
                f"the prompt grows by ≤ {options.max_slope:g} tokens a turn over turns "
                f"{half + 1}-{options.turns}"
            ),
        }
        shape = (
            f"{by_turn[first_turn]:,.0f} tokens at turn {first_turn}, "
            f"{by_turn[last_turn]:,.0f} at turn {last_turn}"
        )
        if slope > options.max_slope:
            return self.result(
                Verdict.FAIL,
                f"the prompt still grows by {slope:,.0f} tokens a turn in turns "
                f"{half + 1}-{options.turns} ({shape}, median of {len(long_ones)} "
                "conversations): the whole history is resent with no cap",
                examples=examples(last_requests),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"the prompt levels off: {slope:+,.1f} tokens a turn in turns "
            f"{half + 1}-{options.turns} ({shape}, median of {len(long_ones)} conversations)",
            **evidence,
        )


def _medians(costs: list[RequestCost], turns: int) -> dict[int, float]:
    """Turn -> the median prompt tokens of that turn, turns 1..`turns`."""
    prompts: dict[int, list[float]] = defaultdict(list)
    for cost in costs:
        if 1 <= cost.turn <= turns:
            prompts[cost.turn].append(float(cost.prompt_tokens))
    return {turn: percentile(prompts[turn], 50) or 0.0 for turn in sorted(prompts)}
