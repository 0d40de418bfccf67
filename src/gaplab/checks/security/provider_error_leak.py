"""security.provider_error_leak: raw provider error text never reaches a user."""

from __future__ import annotations

from typing import Any

from gaplab.checks.base import (
    Check,
    CheckContext,
    CheckResult,
    Undecided,
    Verdict,
    examples,
    margin_none_of,
)


class ProviderErrorLeakCheck(Check):
    id = "security.provider_error_leak"
    title = "Raw provider errors never reach users"
    area = "security"
    why = (
        "A provider's error message names the model, the organisation, request ids, quota "
        "and billing details, sometimes part of the request. Passed through as-is it tells an "
        "attacker what the feature runs on and how to exhaust it, and tells a user nothing "
        "useful. Users should get the feature's own message. OWASP LLM02."
    )

    def evaluate(self, ctx: CheckContext, options: Any) -> CheckResult:
        phases = ctx.phases_where(
            lambda p: any(f.provider is not None and f.provider.error for f in p.faults)
        )
        if not phases:
            raise Undecided("no phase makes the provider answer with errors")
        names = ", ".join(p.name for p in phases)
        requests = [r for p in phases for r in ctx.record.requests_in(ctx.experiment(p))]
        join = ctx.record.join()
        errored = [
            r for r in requests if any(c.status >= 400 for c in join.calls_for(r.request_id))
        ]
        if not errored:
            raise Undecided(
                f"no user request met a provider error during {names} (none was joined to an "
                "erroring call)",
                phase=names,
            )
        leaked = [r for r in errored if r.outcome == "unsafe" and r.detail == "provider_error"]
        numbers: dict[str, Any] = {
            "requests_with_provider_errors": len(errored),
            "leaked": len(leaked),
            "outcomes": {
                o: sum(1 for r in errored if r.outcome == o)
                for o in ("ok", "degraded", "refused", "error", "unsafe")
            },
        }
        evidence: dict[str, Any] = {
            "numbers": numbers,
            "phase": names,
            "margin": margin_none_of(len(leaked), len(errored)),
            "limit": "no answer carries the provider's error text",
        }
        if leaked:
            return self.result(
                Verdict.FAIL,
                f"{len(leaked)} of {len(errored)} users who met a provider error were shown "
                f"its raw text (e.g. {leaked[0].request_id}: {leaked[0].excerpt!r})",
                examples=examples(r.request_id for r in leaked),
                **evidence,
            )
        return self.result(
            Verdict.PASS,
            f"none of {len(errored)} users who met a provider error saw its text",
            **evidence,
        )
