"""What a run cost, priced by the lab itself from the provider profile's price table.

Pure: a `PriceTable` (from a `ProviderProfile`), the provider journal and the user requests
in, numbers out; no I/O (`gaplab.metrics.prices` loads the table for a scenario).

- **A call is billed** when the provider answered it (200), or the model produced an
  answer the client left before reading (the journal records its finish reason: providers
  bill generation). A call the provider refused (4xx, 5xx, a rate limit,
  `context_length_exceeded`) or that hung costs nothing.
- **Its price**: `(tokens_in - tokens_cached) × input + tokens_cached × cached_input +
  tokens_out × output`, per million tokens, at the prices of the model that served it (an
  alias's or an unknown id's: the model that answered for it). A model without a cached
  price bills cached tokens as input (the mock reports none for it anyway).
- **A user request's cost** is the sum over the calls it caused, retries included, joined
  by `RunRecord.join()` (correlation header, else the reference in the last user message).
  A request that caused no call costs 0 and counts.
- **Projections** are linear: `volume` times the run's spend rate (every dollar billed,
  joined or not, over the timeline's seconds), and a month of `daily_requests` at the run's
  dollars per request (30 days). A cache or a quota would bend them; the lab says so
  rather than guessing by how much.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gaplab.checks.stats import percentile
from gaplab.engine.record import RunRecord
from gaplab.provider.journal import ProviderCall
from gaplab.provider.profiles import ProviderProfile

MILLION = 1_000_000
DAYS_PER_MONTH = 30
PROJECTED_VOLUME = 10  # "what happens at 10× volume"


@dataclass(frozen=True)
class Price:
    """USD per million tokens of one model."""

    input: float
    output: float
    cached_input: float | None = None

    def of(self, tokens_in: int, tokens_out: int, tokens_cached: int = 0) -> float:
        cached = self.input if self.cached_input is None else self.cached_input
        fresh = tokens_in - tokens_cached
        return (fresh * self.input + tokens_cached * cached + tokens_out * self.output) / MILLION


@dataclass(frozen=True)
class PriceTable:
    name: str
    models: Mapping[str, Price]  # by id and by alias
    default: Price  # what answers an unknown model id

    @classmethod
    def from_profile(cls, profile: ProviderProfile) -> PriceTable:
        models: dict[str, Price] = {}
        for spec in profile.models:
            price = Price(spec.price_input, spec.price_output, spec.price_cached_input)
            for name in (spec.id, *spec.aliases):
                models[name] = price
        default = profile.default
        return cls(
            profile.name,
            models,
            Price(default.price_input, default.price_output, default.price_cached_input),
        )

    def price(self, model: str | None) -> Price:
        return self.models.get(model or "", self.default)


def billed(call: ProviderCall) -> bool:
    """The provider charges for this call: it answered 200, or the model produced an
    answer the client did not stay for (the journal has its finish reason)."""
    return call.status == 200 or call.finish_reason is not None


def call_cost(call: ProviderCall, prices: PriceTable | None) -> float:
    """USD the call cost; without a table, what the provider journaled."""
    if prices is None:
        return call.cost_usd
    if not billed(call):
        return 0.0
    price = prices.price(call.model_served or call.model_requested)
    return price.of(call.tokens_in, call.tokens_out, call.tokens_cached)


@dataclass(frozen=True)
class RequestCost:
    """One user request's provider calls, tokens and dollars."""

    request_id: str
    user: str
    phase: str
    input_kind: str
    started: float
    calls: int
    tokens_in: int
    tokens_cached: int
    tokens_out: int
    usd: float
    prompt_tokens: int  # the largest prompt among its calls (0 without a call)
    conversation: str = ""
    turn: int = 0


def request_costs(record: RunRecord, prices: PriceTable | None) -> list[RequestCost]:
    """Every AI request of the run with what its joined calls cost."""
    join = record.join()
    costs = []
    for request in record.requests:
        calls = join.calls_for(request.request_id)
        costs.append(
            RequestCost(
                request_id=request.request_id,
                user=request.user,
                phase=request.phase,
                input_kind=request.input_kind,
                started=request.started,
                calls=len(calls),
                tokens_in=sum(c.tokens_in for c in calls),
                tokens_cached=sum(c.tokens_cached for c in calls),
                tokens_out=sum(c.tokens_out for c in calls),
                usd=sum(call_cost(c, prices) for c in calls),
                prompt_tokens=max((c.tokens_in for c in calls), default=0),
                conversation=request.conversation,
                turn=request.turn,
            )
        )
    return costs


def stats(values: Sequence[float]) -> dict[str, Any]:
    """Requests, mean, p50, p95 (nearest rank) and max of per-request dollars."""
    return {
        "requests": len(values),
        "mean_usd": sum(values) / len(values) if values else None,
        "p50_usd": percentile(list(values), 50),
        "p95_usd": percentile(list(values), 95),
        "max_usd": max(values, default=None),
    }


def timeline_seconds(record: RunRecord) -> float:
    """Seconds of the run's timeline so far (first phase start to the last phase edge)."""
    if not record.phases:
        return 0.0
    start = record.phases[0].start
    ends = [p.end if p.end is not None else record.end for p in record.phases]
    return max(0.0, max(ends) - start)


def projection(
    total_usd: float,
    requests: int,
    seconds: float,
    *,
    volume: float = PROJECTED_VOLUME,
    daily_requests: int | None = None,
) -> dict[str, Any]:
    """The run's spend rate, the same traffic at `volume` times the rate, and (when the
    target declares its daily volume) a month of it."""
    per_second = total_usd / seconds if seconds > 0 else None
    rate = requests / seconds if seconds > 0 else None
    per_request = total_usd / requests if requests else None
    scaled = None if per_second is None else per_second * volume
    document: dict[str, Any] = {
        "seconds": seconds,
        "requests_per_second": rate,
        "usd_per_request": per_request,
        "usd_per_hour": None if per_second is None else per_second * 3600,
        "at_volume": {
            "volume": volume,
            "requests_per_second": None if rate is None else rate * volume,
            "usd_per_hour": None if scaled is None else scaled * 3600,
            "usd_per_day": None if scaled is None else scaled * 86_400,
            "usd_per_month": None if scaled is None else scaled * 86_400 * DAYS_PER_MONTH,
        },
        "monthly": None,
    }
    if daily_requests is not None and per_request is not None:
        document["monthly"] = {
            "daily_requests": daily_requests,
            "usd_per_day": per_request * daily_requests,
            "usd_per_month": per_request * daily_requests * DAYS_PER_MONTH,
        }
    return document


def per_turn(costs: Iterable[RequestCost]) -> list[dict[str, Any]]:
    """Prompt tokens the provider saw for each turn of the run's conversations: per turn,
    the turns that reached the provider, and the median, max and cached median prompt."""
    prompts: dict[int, list[int]] = defaultdict(list)
    cached: dict[int, list[int]] = defaultdict(list)
    for cost in costs:
        if cost.turn and cost.calls:
            prompts[cost.turn].append(cost.prompt_tokens)
            cached[cost.turn].append(cost.tokens_cached // cost.calls)
    return [
        {
            "turn": turn,
            "requests": len(prompts[turn]),
            "prompt_tokens_p50": percentile([float(v) for v in prompts[turn]], 50),
            "prompt_tokens_max": max(prompts[turn]),
            "cached_tokens_p50": percentile([float(v) for v in cached[turn]], 50),
        }
        for turn in sorted(prompts)
    ]


def tokens_per_minute(
    calls: Iterable[tuple[float, int]], window: float = 60.0
) -> tuple[int, float | None]:
    """The most tokens seen in any `window` seconds (sliding, by arrival time) among
    `(time, tokens)` pairs, and when that window ended."""
    ordered = sorted(calls)
    best, best_end = 0, None
    total, start = 0, 0
    for t, tokens in ordered:
        total += tokens
        while ordered[start][0] <= t - window:
            total -= ordered[start][1]
            start += 1
        if total > best:
            best, best_end = total, t
    return best, best_end
