"""observability.model_metrics: the served model shows in the target's metrics and changes
after a model swap."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import Field

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckOptions,
    CheckResult,
    EvidenceKind,
    Undecided,
    Verdict,
)
from gaplab.checks.observability.scrapes import (
    MetricsFailed,
    declared_metrics,
    good_scrapes,
    increase,
)
from gaplab.scenario.durations import Duration


class ModelMetricsOptions(CheckOptions):
    settle: Duration = Field(default=1.0, ge=0, description="skipped after the swap starts")


class ModelMetricsCheck(Check):
    id = "observability.model_metrics"
    title = "The served model id shows in the metrics and changes after a model swap"
    area = "observability"
    kind = EvidenceKind.PROBED
    probes = frozenset({"metrics"})
    why = (
        "Providers move aliases to new models, and a new model answers differently, costs "
        "differently and fails differently. When quality or cost changes overnight, the "
        "first question is which model served the answers: metrics labelled with the model "
        "the provider reports (not the one asked for) answer it."
    )
    Options = ModelMetricsOptions

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        declared_metrics(ctx, "`model_label`", "model_label")
        base_phase = ctx.scenario.baseline()
        swaps = [
            (p, f.provider)
            for p in ctx.scenario.phases
            for f in p.faults
            if f.provider is not None and f.provider.model_swap
        ]
        if base_phase is None or not swaps:
            raise Undecided("needs a baseline and a phase with a model swap")
        phase, fault = swaps[0]
        baseline = ctx.ended(base_phase)
        window = ctx.experiment(phase)
        assert baseline.end is not None and window.end is not None
        try:
            scrapes = good_scrapes(ctx)
        except MetricsFailed as failed:
            return self.result(Verdict.FAIL, str(failed), phase=window.name)
        missing = sorted({name for s in scrapes for name in s.missing})
        if missing:
            return self.result(
                Verdict.FAIL, f"the metrics endpoint has no {', '.join(missing)}", phase=phase.name
            )
        start = window.start + (fault.after or 0.0) + options.settle
        found: dict[str, Any] = {}
        for name, (a, b) in (
            (baseline.name, (baseline.start, baseline.end)),
            (window.name, (start, window.end)),
        ):
            calls = [c for c in ctx.record.calls_between(a, b) if 200 <= c.status < 300]
            served = Counter(c.model_served or "?" for c in calls).most_common(1)
            grown = increase(scrapes, a, b)
            if not served or grown is None:
                raise Undecided(f"too few calls or scrapes in phase {name}", phase=window.name)
            labels = sorted(m for m, v in grown.models.items() if v > 0)
            found[name] = {"served": served[0][0], "in_metrics": labels}
        before, after = found[baseline.name], found[window.name]
        evidence: dict[str, Any] = {"numbers": found, "phase": window.name}
        problems = [
            f"phase {name}: the provider served {seen['served']}, the metrics showed "
            f"{', '.join(seen['in_metrics']) or 'no model'}"
            for name, seen in found.items()
            if seen["served"] not in seen["in_metrics"]
        ]
        if problems:
            return self.result(Verdict.FAIL, "; ".join(problems), **evidence)
        return self.result(
            Verdict.PASS,
            f"the metrics showed {before['served']}, then {after['served']} after the swap",
            **evidence,
        )
