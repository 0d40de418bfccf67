"""Which checks each defence of `demo:hardened` owns: the one table `lab matrix`, the
end-to-end tests and docs/demo-targets.md read.

`OWNERSHIP[defence][exercise]` is the exact set of check ids that fail when that defence is
switched off (`demo:hardened?without=<defence>`) and the exercise is played, while the
hardened demo with every defence passes them all; every other check of the exercise must
still pass. An empty set is a claim too: the exercise exercises the defence, yet its
removal fails nothing (for example `retry` on `permanent_errors`: with no retries at all,
nothing is retried wrongly).

`EXERCISES[name]` says how an exercise is played: a bundled scenario, the demo interface
(endpoint) it drives, phases left out, demo options added to every target of the exercise,
and the shortest phase scale at which its verdicts still hold with a margin (what the
end-to-end tests play; `lab matrix --scale` never goes below it).

Adding a defence is one `OWNERSHIP` entry (plus one `EXERCISES` entry if it needs a scenario
no other defence uses); a defence no scenario can exercise is an empty entry (`{}`), which
`lab matrix` lists as not exercised rather than leaving out. The entries come from what
the end-to-end tests assert (tests/e2e/test_security_runs.py, test_cost_runs.py and
test_resilience_scenarios.py, which now read them from here; the breaker's from
test_resilience_runs.py), and the breaker and fallback rows over the bundled `outage`
from a full `lab matrix` run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Interface = Literal["chat", "stream", "json"]


@dataclass(frozen=True)
class Exercise:
    """A bundled scenario as the matrix plays it."""

    scenario: str  # a bundled scenario's name
    interface: Interface  # the demo endpoint: chat (/chat), stream (/chat/stream), json (/triage)
    drop_phases: tuple[str, ...] = ()  # phases left out
    options: str = ""  # demo options for every target of the exercise, e.g. "break=1s"
    shortest: float = 0.35  # the smallest phase scale whose verdicts hold with a margin
    min_phase: float = 2.0  # seconds: no phase is shortened below this


EXERCISES: dict[str, Exercise] = {
    # security and governance (test_security_runs.py: 0.35 of the bundled length)
    "injection": Exercise("injection", "chat"),
    "indirect_injection": Exercise("indirect_injection", "chat"),
    "prompt_extraction": Exercise("prompt_extraction", "chat"),
    "output_exfil": Exercise("output_exfil", "chat"),
    "pii_input": Exercise("pii_input", "chat"),
    "pii_output": Exercise("pii_output", "chat"),
    "opt_out": Exercise("opt_out", "chat"),
    # A 1 s break: at 0.35 of its length the 500 phase opens the breaker, and the default
    # 5 s break would outlast the 2.8 s quota phase after it (no call would reach its fault).
    "error_leak": Exercise("error_leak", "chat", options="break=1s"),
    # cost (test_cost_runs.py)
    "huge_input": Exercise("huge_input", "chat", shortest=0.5),
    "context_overflow": Exercise("context_overflow", "chat", shortest=0.6),
    "runaway_output": Exercise("runaway_output", "chat", shortest=0.5),
    "repeated_questions": Exercise("repeated_questions", "chat", shortest=0.5),
    # 20 turns take the whole 24 s: never shortened.
    "long_conversation": Exercise("long_conversation", "chat", shortest=1.0),
    "greedy_user": Exercise("greedy_user", "chat", shortest=0.6),
    # resilience (test_resilience_scenarios.py: 0.6, phases of at least 3 s)
    "transient_blip": Exercise("transient_blip", "chat", shortest=0.6, min_phase=3.0),
    "permanent_errors": Exercise("permanent_errors", "chat", shortest=0.6, min_phase=3.0),
    "retry_after": Exercise("retry_after", "chat", shortest=0.6, min_phase=3.0),
    "bad_outputs": Exercise("bad_outputs", "json", shortest=0.6, min_phase=3.0),
    # On /chat the output check alone stands between a bad answer and the user (on /triage
    # the contract catches what it misses); invalid JSON means nothing to a chat answer.
    "bad_outputs_chat": Exercise(
        "bad_outputs", "chat", drop_phases=("invalid_json",), shortest=0.6, min_phase=3.0
    ),
    # Broken streams are failed calls to the breaker: a 1 s break lets probes through in
    # every phase, so each stream fault still meets calls when phases are short.
    "stream_faults": Exercise(
        "stream_faults", "stream", options="break=1s", shortest=0.6, min_phase=3.0
    ),
    "model_swap": Exercise("model_swap", "json", shortest=0.6, min_phase=3.0),
    "latency_spike": Exercise("latency_spike", "chat", shortest=0.8, min_phase=3.0),
    "latency_drift": Exercise("latency_drift", "chat", shortest=0.8, min_phase=3.0),
    "outage": Exercise("outage", "chat", shortest=0.6, min_phase=3.0),
    # observability and integration (test_readiness_runs.py)
    "observability": Exercise("observability", "chat", shortest=0.7),
    "user_burst": Exercise("user_burst", "chat", shortest=0.6),
    "kill_switch": Exercise("kill_switch", "chat", shortest=0.6),
    "slow_writes": Exercise("slow_writes", "chat", shortest=0.6),
}

OWNERSHIP: dict[str, dict[str, frozenset[str]]] = {
    # resilience
    "timeout": {
        "latency_spike": frozenset({"resilience.timeout"}),
        "latency_drift": frozenset({"resilience.timeout"}),
    },
    "retry": {
        "transient_blip": frozenset({"resilience.retry_transient"}),
        "permanent_errors": frozenset(),
        "retry_after": frozenset(),
    },
    "breaker": {
        "outage": frozenset({"resilience.circuit_breaker", "resilience.no_retry_storm"}),
    },
    "fallback": {
        "error_leak": frozenset({"security.provider_error_leak"}),
        "outage": frozenset({"resilience.fallback"}),
    },
    "output_check": {"bad_outputs_chat": frozenset({"resilience.bad_output"})},
    "stream_guard": {"stream_faults": frozenset({"resilience.stream_integrity"})},
    "pin": {"model_swap": frozenset({"resilience.model_pinned"})},
    "contract": {
        "bad_outputs": frozenset({"resilience.bad_output"}),
        "bad_outputs_chat": frozenset(),
        "model_swap": frozenset({"resilience.model_pinned"}),
    },
    # cost
    "input_limit": {
        "huge_input": frozenset({"cost.input_limit"}),
        "context_overflow": frozenset({"cost.input_limit"}),
    },
    "output_cap": {"runaway_output": frozenset({"cost.output_cap"})},
    "cache": {"repeated_questions": frozenset({"cost.cache"})},
    "history": {"long_conversation": frozenset({"cost.prompt_growth"})},
    "quota": {"greedy_user": frozenset({"cost.budget_enforced"})},
    # security and governance
    "consent": {"opt_out": frozenset({"governance.consent"})},
    "guard": {
        "injection": frozenset({"security.injection"}),
        "indirect_injection": frozenset({"security.indirect_injection"}),
    },
    "redact": {
        "pii_input": frozenset({"governance.pii_minimised"}),
        "pii_output": frozenset({"governance.pii_in_output"}),
    },
    "output_filter": {"prompt_extraction": frozenset({"security.system_prompt_leak"})},
    "sanitise": {"output_exfil": frozenset({"security.output_sanitised"})},
    "disclosure": {"opt_out": frozenset({"governance.ai_disclosure"})},
    # observability and integration
    "health": {"observability": frozenset({"observability.health_degraded"})},
    "metrics": {
        "observability": frozenset(
            {
                "observability.latency_metrics",
                "observability.token_metrics",
                "observability.model_metrics",
            }
        )
    },
    "bulkhead": {"user_burst": frozenset({"integration.concurrency_limit"})},
    "kill_switch": {"kill_switch": frozenset({"integration.kill_switch"})},
    "async_write": {"slow_writes": frozenset({"integration.async_write"})},
    "idempotency": {"slow_writes": frozenset({"integration.idempotent_enrichment"})},
}
