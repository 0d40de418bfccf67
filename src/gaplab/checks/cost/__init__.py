"""Cost checks (CHECKLIST.md, "Cost"), one module each: what a request costs and who caps
it: input size, output length, repeated questions, conversation history, per-user quota,
and per-request budget. Batching is attested: gaplab.checks.attested."""

from gaplab.checks.base import Check
from gaplab.checks.cost.budget_enforced import BudgetEnforcedCheck
from gaplab.checks.cost.cache import CacheCheck
from gaplab.checks.cost.input_limit import InputLimitCheck
from gaplab.checks.cost.output_cap import OutputCapCheck
from gaplab.checks.cost.per_request import PerRequestCheck
from gaplab.checks.cost.prompt_growth import PromptGrowthCheck

COST_CHECKS: tuple[Check, ...] = (
    InputLimitCheck(),
    OutputCapCheck(),
    CacheCheck(),
    PromptGrowthCheck(),
    PerRequestCheck(),
    BudgetEnforcedCheck(),
)

__all__ = ["COST_CHECKS"]
