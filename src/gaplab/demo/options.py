"""Options of the bundled demo targets: which defences the hardened demo runs and its numbers.

One parser serves both the target spec string (`demo:hardened?without=breaker&break=2s`) and
the command line (`python -m gaplab.demo hardened --without breaker --break 2s`); anything
unknown or out of range is an `InputError` that lists what is valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gaplab.errors import InputError
from gaplab.scenario.durations import format_duration, parse_duration

DEMO_NAMES: tuple[str, ...] = ("naive", "hardened")

DEMO_DESCRIPTIONS: dict[str, str] = {
    "naive": "the afternoon demo: official SDK defaults (600 s timeout, 2 retries), "
    "provider errors passed to the user, no defences",
    "hardened": "the same service with a time budget, careful retries, a circuit breaker, "
    "a fallback answer, consent, input guard, redaction, output filter, sanitiser and AI "
    "disclosure, each switchable off",
}

DEFENCES: dict[str, str] = {
    "timeout": "a hard time budget for the AI call (total and per attempt), well under the SLA",
    "retry": "retries only transient errors, with backoff and jitter, honouring retry-after "
    "within the budget",
    "breaker": "a circuit breaker: after N consecutive failures, fail fast for a while, "
    "then let one probe through",
    "fallback": "on any AI failure answer 200 with a 'temporarily unavailable' text marked "
    "degraded, instead of a 503 carrying the provider's error text",
    "consent": "a user who opted out of AI processing gets a non-AI answer, with no model call",
    "guard": "screens the input for injection and prompt-extraction attempts and refuses them "
    "without calling the model",
    "redact": "replaces personal data (emails, phones, IBANs, cards, national ids, names) "
    "with placeholders, in the input before the call and in the answer",
    "output_filter": "refuses answers that echo the system prompt or say they follow other "
    "instructions",
    "sanitise": "neutralises links and images to outside hosts and HTML in answers",
    "disclosure": "marks every AI-generated answer (header X-AI-Generated and field ai_generated)",
}

# Option names in a spec string, with the command-line flag each one maps to.
SPEC_OPTIONS: dict[str, str] = {
    "without": "--without",
    "timeout": "--budget",
    "budget": "--budget",
    "attempt": "--attempt-timeout",
    "break": "--break",
    "threshold": "--threshold",
}


@dataclass(frozen=True)
class HardenedConfig:
    """The hardened demo's defences and numbers (defaults suit a 10 s SLA)."""

    defences: frozenset[str] = field(default_factory=lambda: frozenset(DEFENCES))
    budget: float = 4.0  # total seconds for one user request's AI work, retries included
    attempt_timeout: float = 2.5  # seconds for one provider call
    break_duration: float = 5.0  # seconds the breaker stays open
    threshold: int = 5  # consecutive failed provider calls that open the breaker
    max_retries: int = 2

    def has(self, defence: str) -> bool:
        return defence in self.defences

    @property
    def without(self) -> tuple[str, ...]:
        return tuple(name for name in DEFENCES if name not in self.defences)

    def to_args(self) -> list[str]:
        """The command-line flags that rebuild this configuration."""
        args = [
            "--budget", format_duration(self.budget),
            "--attempt-timeout", format_duration(self.attempt_timeout),
            "--break", format_duration(self.break_duration),
            "--threshold", str(self.threshold),
        ]  # fmt: skip
        if self.without:
            args += ["--without", ",".join(self.without)]
        return args

    def describe(self) -> str:
        parts = [f"{name}" if self.has(name) else f"no {name}" for name in DEFENCES]
        return (
            ", ".join(parts)
            + f"; budget {self.budget:g}s, attempt {self.attempt_timeout:g}s, "
            + f"breaker {self.threshold} failures / {self.break_duration:g}s"
        )


def parse_without(value: str | Iterable[str]) -> frozenset[str]:
    """Defences named in `breaker,fallback` (or a list of such strings), validated."""
    items = [value] if isinstance(value, str) else list(value)
    names = {part.strip() for item in items for part in item.split(",") if part.strip()}
    unknown = sorted(names - set(DEFENCES))
    if unknown:
        raise InputError(
            f"unknown defence {', '.join(repr(u) for u in unknown)}; "
            f"the hardened demo's defences are: {', '.join(DEFENCES)}"
        )
    return frozenset(names)


def _duration(option: str, value: str) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise InputError(f"demo option {option}: {exc}") from None
    if seconds <= 0:
        raise InputError(f"demo option {option}: must be more than 0s")
    return seconds


def hardened_config(options: Mapping[str, str]) -> HardenedConfig:
    """Build a config from spec-string options (keys as in `SPEC_OPTIONS`)."""
    unknown = sorted(set(options) - set(SPEC_OPTIONS))
    if unknown:
        raise InputError(
            f"unknown option {', '.join(repr(u) for u in unknown)} for demo:hardened; "
            f"valid options: {', '.join(SPEC_OPTIONS)}"
        )
    if "timeout" in options and "budget" in options:
        raise InputError("give the time budget once: `timeout` and `budget` are the same option")
    defaults = HardenedConfig()
    without = parse_without(options.get("without", ""))
    budget_text = options.get("timeout", options.get("budget"))
    budget = _duration("timeout", budget_text) if budget_text else defaults.budget
    attempt_text = options.get("attempt")
    attempt = _duration("attempt", attempt_text) if attempt_text else defaults.attempt_timeout
    break_text = options.get("break")
    break_duration = _duration("break", break_text) if break_text else defaults.break_duration
    threshold = defaults.threshold
    if "threshold" in options:
        try:
            threshold = int(options["threshold"])
        except ValueError:
            raise InputError(
                f"demo option threshold: {options['threshold']!r} is not a whole number"
            ) from None
        if threshold < 1:
            raise InputError("demo option threshold: must be at least 1")
    return HardenedConfig(
        defences=frozenset(DEFENCES) - without,
        budget=budget,
        attempt_timeout=min(attempt, budget),
        break_duration=break_duration,
        threshold=threshold,
    )
