"""What the cost checks share: the run's requests once every phase has ended, the price
table and the declared budget and caps, the prompt a call carried, and a robust slope.

The cost checks judge the whole run (every phase), so each decides only when all of its
phases ran to their end; a check whose inputs the scenario never sent is `not_run` and
says which to add.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from gaplab.checks.base import CheckContext, Undecided
from gaplab.engine.events import UserRequestFinished
from gaplab.metrics.cost import PriceTable
from gaplab.metrics.prices import Budget, declared_budget, prices_for
from gaplab.provider.journal import ProviderCall
from gaplab.provider.tokens import MESSAGE_OVERHEAD, REPLY_OVERHEAD, content_text, count_tokens
from gaplab.scenario.target_models import LimitsSpec

DEFAULT_INPUT_CAP = 8_000  # tokens: a 16-page document, when the target declares no cap


def run_requests(ctx: CheckContext) -> tuple[list[UserRequestFinished], str]:
    """Every AI request of the run, once every phase has ended, and the phases' names;
    `Undecided` while one has not. (All of them: the users' first requests leave a moment
    before the first phase is marked started, and a run's bill counts them too.)"""
    windows = [ctx.ended(phase) for phase in ctx.scenario.phases]
    return list(ctx.record.requests), ", ".join(w.name for w in windows)


def prices(ctx: CheckContext) -> PriceTable | None:
    return prices_for(ctx.scenario.provider)


def budget(ctx: CheckContext, options: Any) -> Budget:
    """The target file's budget, each number it leaves out from the check's options."""
    return declared_budget(ctx.target, [options.model_dump()])


def limits(ctx: CheckContext) -> LimitsSpec:
    return ctx.target.limits if ctx.target is not None else LimitsSpec()


def last_user_tokens(call: ProviderCall) -> int:
    """Tokens of the last user message of a call: its prompt less the other messages (the
    system prompt and history are short and their counts cached; the message itself, a
    pasted document maybe, is not counted again)."""
    users = [i for i, m in enumerate(call.messages) if m.get("role") == "user"]
    if not users:
        return 0
    others = sum(
        MESSAGE_OVERHEAD + count_tokens(content_text(m.get("content")))
        for i, m in enumerate(call.messages)
        if i != users[-1]
    )
    if call.dialect == "anthropic" and call.system_prompt:
        others += count_tokens(call.system_prompt)
    return max(0, call.tokens_in - REPLY_OVERHEAD - MESSAGE_OVERHEAD - others)


def theil_sen(points: Sequence[tuple[float, float]]) -> float | None:
    """The median of the slopes between every pair of points (Theil-Sen): one odd turn, a
    throttled or cached one, barely moves it, where a least-squares line would tilt."""
    slopes = [
        (y2 - y1) / (x2 - x1)
        for i, (x1, y1) in enumerate(points)
        for x2, y2 in points[i + 1 :]
        if x2 != x1
    ]
    return statistics.median(slopes) if slopes else None


def needs(what: str, add: str) -> Undecided:
    """The `not_run` of a check whose inputs were not sent."""
    return Undecided(f"{what} (add {add} to the scenario)")
