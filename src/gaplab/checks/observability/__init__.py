"""Observability checks (CHECKLIST.md, "Observability"): the request id reaches the
provider (measured), and what the target itself exposes: health, latency and token
metrics, the model label (probed, from the target file's `health:` and `metrics:`).
The attested `observability.alerts` is in gaplab.checks.attested."""

from gaplab.checks.base import Check
from gaplab.checks.observability.correlation import CorrelationCheck
from gaplab.checks.observability.health import HealthDegradedCheck
from gaplab.checks.observability.latency_metrics import LatencyMetricsCheck
from gaplab.checks.observability.model_metrics import ModelMetricsCheck
from gaplab.checks.observability.token_metrics import TokenMetricsCheck

OBSERVABILITY_CHECKS: tuple[Check, ...] = (
    CorrelationCheck(),
    HealthDegradedCheck(),
    LatencyMetricsCheck(),
    TokenMetricsCheck(),
    ModelMetricsCheck(),
)

__all__ = ["OBSERVABILITY_CHECKS"]
