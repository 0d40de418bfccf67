"""Resilience checks (CHECKLIST.md, "Resilience"), one module each.

Each reads the phases the scenario made faulty, the user-side requests and the provider
journal, and decides with the checklist's default numbers unless the scenario overrides them.
"""

from gaplab.checks.base import Check
from gaplab.checks.resilience.bad_output import BadOutputCheck
from gaplab.checks.resilience.circuit_breaker import CircuitBreakerCheck
from gaplab.checks.resilience.contained import ContainedCheck
from gaplab.checks.resilience.fallback import FallbackCheck
from gaplab.checks.resilience.model_pinned import ModelPinnedCheck
from gaplab.checks.resilience.permanent import NoRetryPermanentCheck
from gaplab.checks.resilience.recovery import RecoveryCheck
from gaplab.checks.resilience.retry_after import RetryAfterCheck
from gaplab.checks.resilience.retry_storm import NoRetryStormCheck
from gaplab.checks.resilience.retry_transient import RetryTransientCheck
from gaplab.checks.resilience.stream_integrity import StreamIntegrityCheck
from gaplab.checks.resilience.timeout import TimeoutCheck

RESILIENCE_CHECKS: tuple[Check, ...] = (
    TimeoutCheck(),
    FallbackCheck(),
    ContainedCheck(),
    CircuitBreakerCheck(),
    NoRetryStormCheck(),
    RecoveryCheck(),
    RetryTransientCheck(),
    NoRetryPermanentCheck(),
    RetryAfterCheck(),
    BadOutputCheck(),
    StreamIntegrityCheck(),
    ModelPinnedCheck(),
)

__all__ = [
    "RESILIENCE_CHECKS",
    "BadOutputCheck",
    "CircuitBreakerCheck",
    "ContainedCheck",
    "FallbackCheck",
    "ModelPinnedCheck",
    "NoRetryPermanentCheck",
    "NoRetryStormCheck",
    "RecoveryCheck",
    "RetryAfterCheck",
    "RetryTransientCheck",
    "StreamIntegrityCheck",
    "TimeoutCheck",
]
