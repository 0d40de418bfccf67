"""The price table a run is priced with, and the budget it is judged against.

`prices_for(provider)` loads the scenario's provider profile (the same file the mock
provider served the run from) once per process; None when it cannot be read any more (a
user's profile moved since the run), and the lab then falls back to the dollars the
provider journaled. `declared_budget` reads the target file's `budget:`, falling back, for
each number the target does not declare, to the options the scenario gives the cost checks
(so a scenario can judge a bundled demo, which declares no dollar budget).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gaplab.errors import InputError
from gaplab.metrics.cost import PriceTable
from gaplab.provider.profiles import ProviderProfile, load_profile
from gaplab.scenario.target_models import TargetFile


@lru_cache(maxsize=16)
def profile_for(provider: str) -> ProviderProfile | None:
    try:
        return load_profile(provider)
    except (InputError, OSError):
        return None


@lru_cache(maxsize=16)
def prices_for(provider: str) -> PriceTable | None:
    profile = profile_for(provider)
    return None if profile is None else PriceTable.from_profile(profile)


@dataclass(frozen=True)
class Budget:
    per_request_usd: float | None = None
    per_user_tokens_per_minute: int | None = None
    daily_requests: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "per_request_usd": self.per_request_usd,
            "per_user_tokens_per_minute": self.per_user_tokens_per_minute,
            "daily_requests": self.daily_requests,
        }


def declared_budget(
    target: TargetFile | None, check_options: Sequence[Mapping[str, Any]] = ()
) -> Budget:
    """The target's budget; a number it leaves out comes from the first check option of
    that name (`cost.per_request: {per_request_usd: 0.001, daily_requests: 20000}`)."""
    declared = target.budget if target is not None else None

    def pick(name: str) -> Any:
        value = getattr(declared, name, None) if declared is not None else None
        if value is not None:
            return value
        return next((o[name] for o in check_options if o.get(name) is not None), None)

    return Budget(
        per_request_usd=pick("per_request_usd"),
        per_user_tokens_per_minute=pick("per_user_tokens_per_minute"),
        daily_requests=pick("daily_requests"),
    )


def scenario_check_options(checks: Sequence[Any]) -> list[Mapping[str, Any]]:
    """The options of the scenario's cost checks, from models or their JSON dump."""
    found: list[Mapping[str, Any]] = []
    for ref in checks:
        check_id = ref["id"] if isinstance(ref, Mapping) else ref.id
        options = ref.get("options", {}) if isinstance(ref, Mapping) else ref.options
        if str(check_id).startswith("cost.") and options:
            found.append(options)
    return found
