"""Options of the bundled demo targets: which defences the hardened demo runs and its numbers.

One parser serves both the target spec string (`demo:hardened?without=breaker&break=2s`) and
the command line (`python -m gaplab.demo hardened --without breaker --break 2s`); anything
unknown or out of range is an `InputError` that lists what is valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from gaplab.errors import InputError
from gaplab.scenario.durations import format_duration, parse_duration

DEMO_NAMES: tuple[str, ...] = ("naive", "hardened")

DEMO_DESCRIPTIONS: dict[str, str] = {
    "naive": "the afternoon demo: official SDK defaults (600 s timeout, 2 retries), a floating "
    "model alias, whole conversations resent, provider errors passed to the user, no defences",
    "hardened": "the same service with resilience (time budget, careful retries, breaker, "
    "fallback, output and stream checks, pinned model, JSON contract), cost (input limit, "
    "output cap, cache, bounded history, per-user quota), security and governance defences, "
    "each switchable off",
}

DEFENCES: dict[str, str] = {
    # resilience
    "timeout": "a hard time budget for the AI call (total and per attempt), well under the SLA",
    "retry": "retries only transient errors, with backoff and jitter, honouring retry-after "
    "within the budget; never a permanent error",
    "breaker": "a circuit breaker: after N consecutive failures, fail fast for a while, "
    "then let one probe through",
    "fallback": "on any AI failure answer 200 with a 'temporarily unavailable' text marked "
    "degraded, instead of a 503 carrying the provider's error text",
    "output_check": "an empty answer, a refusal, an answer cut by length or by the content "
    "filter, or invalid tool arguments becomes the fallback answer, marked degraded",
    "stream_guard": "a stream that is cut, stalls, carries a malformed chunk or an error "
    "event ends with an explicit error event, never as a silent partial answer",
    "pin": "asks for a dated model snapshot instead of the floating alias",
    "contract": "validates JSON answers against their model; one retry with a stricter "
    "prompt, else a degraded answer",
    # cost
    "input_limit": "refuses an input above the token cap with 413, before any model call",
    "output_cap": "every model call sets max_completion_tokens",
    "cache": "answers repeated identical questions from an exact-match cache with a TTL",
    "history": "sends only the last turns of a conversation, within a token budget",
    "quota": "a per-user token budget per minute: past it, a clean 429 before any model call",
    # security and governance
    "consent": "a user who opted out of AI processing gets a non-AI answer, with no model call",
    "guard": "screens the input for injection and prompt-extraction attempts and refuses them "
    "without calling the model",
    "redact": "replaces personal data (emails, phones, IBANs, cards, national ids, names) "
    "with placeholders, in the input before the call and in the answer",
    "output_filter": "refuses answers that echo the system prompt or say they follow other "
    "instructions",
    "sanitise": "neutralises links and images to outside hosts and HTML in answers",
    "disclosure": "marks every AI-generated answer (header X-AI-Generated and field ai_generated)",
    # observability and integration
    "health": "GET /health says degraded while the breaker is open or the AI is switched off",
    "metrics": "GET /metrics (Prometheus) has an AI-call latency histogram and token "
    "counters, labelled with the model the provider served",
    "kill_switch": 'POST /admin/ai {"enabled": false|true} turns the AI off and on without '
    "a restart; while off, answers are the fallback",
    "async_write": "POST /notes answers at once and enriches the note from a queue",
    "idempotency": "re-enriching an enriched note (POST /notes/{id}/enrich) makes no model call",
    "bulkhead": "at most N AI calls in flight; past that, 503 with the fallback answer at once",
}

OptionKind = Literal["duration", "count"]


@dataclass(frozen=True)
class NumberOption:
    """A numeric option: its spec name, its command-line flag, the config field it sets."""

    spec: str
    flag: str
    field: str
    kind: OptionKind
    help: str


NUMBER_OPTIONS: tuple[NumberOption, ...] = (
    NumberOption("timeout", "--budget", "budget", "duration", "total time budget [4s]"),
    NumberOption("attempt", "--attempt-timeout", "attempt_timeout", "duration",
                 "time for one provider call [2.5s]"),
    NumberOption("break", "--break", "break_duration", "duration",
                 "how long the breaker stays open [5s]"),
    NumberOption("threshold", "--threshold", "threshold", "count",
                 "consecutive failures that open the breaker [5]"),
    NumberOption("stall", "--stall-timeout", "stall_timeout", "duration",
                 "longest gap between two chunks of a stream [2s]"),
    NumberOption("input_tokens", "--input-tokens", "input_tokens", "count",
                 "largest input, in estimated tokens [8000]"),
    NumberOption("output_tokens", "--output-tokens", "output_tokens", "count",
                 "max_completion_tokens of every model call [400]"),
    NumberOption("cache_ttl", "--cache-ttl", "cache_ttl", "duration",
                 "how long a cached answer is served [300s]"),
    NumberOption("history", "--history-turns", "history_turns", "count",
                 "conversation turns sent with a new message [6]"),
    NumberOption("history_tokens", "--history-tokens", "history_tokens", "count",
                 "estimated tokens of history sent with a new message [2000]"),
    NumberOption("quota", "--quota", "quota_tokens", "count",
                 "tokens one user may spend per minute [20000]"),
    NumberOption("concurrency", "--concurrency", "concurrency", "count",
                 "AI calls in flight at most (bulkhead) [24]"),
)  # fmt: skip
# Option names in a spec string, with the command-line flag each one maps to.
SPEC_OPTIONS: dict[str, str] = {
    "without": "--without",
    **{option.spec: option.flag for option in NUMBER_OPTIONS},
    "budget": "--budget",  # the same as `timeout`
}


@dataclass(frozen=True)
class HardenedConfig:
    """The hardened demo's defences and numbers (defaults suit a 10 s SLA)."""

    defences: frozenset[str] = field(default_factory=lambda: frozenset(DEFENCES))
    budget: float = 4.0  # total seconds for one user request's AI work, retries included
    attempt_timeout: float = 2.5  # seconds for one provider call
    break_duration: float = 5.0  # seconds the breaker stays open
    threshold: int = 5  # consecutive failed provider calls that open the breaker
    max_retries: int = 2  # so at most 3 provider calls per user request
    stall_timeout: float = 2.0  # seconds without a chunk before a stream counts as stalled
    input_tokens: int = 8_000  # largest message accepted, in estimated tokens
    output_tokens: int = 400  # max_completion_tokens on every call
    cache_ttl: float = 300.0  # seconds a cached answer is served
    cache_size: int = 1_024  # answers kept (least recently used go first)
    history_turns: int = 6  # earlier turns (question + answer) sent with a new message
    history_tokens: int = 2_000  # and at most this many estimated tokens of them
    quota_tokens: int = 20_000  # tokens one user may spend in any 60 s
    concurrency: int = 24  # AI calls in flight at most (bulkhead)

    def has(self, defence: str) -> bool:
        return defence in self.defences

    @property
    def without(self) -> tuple[str, ...]:
        return tuple(name for name in DEFENCES if name not in self.defences)

    def to_args(self) -> list[str]:
        """The command-line flags that rebuild this configuration."""
        args: list[str] = []
        for option in NUMBER_OPTIONS:
            value = getattr(self, option.field)
            args += [
                option.flag,
                format_duration(value) if option.kind == "duration" else str(value),
            ]
        if self.without:
            args += ["--without", ",".join(self.without)]
        return args

    def describe(self) -> str:
        parts = [f"{name}" if self.has(name) else f"no {name}" for name in DEFENCES]
        return (
            ", ".join(parts)
            + f"; budget {self.budget:g}s, attempt {self.attempt_timeout:g}s, "
            + f"breaker {self.threshold} failures / {self.break_duration:g}s, "
            + f"stall {self.stall_timeout:g}s, input {self.input_tokens} tokens, "
            + f"output {self.output_tokens} tokens, cache {self.cache_ttl:g}s, "
            + f"history {self.history_turns} turns / {self.history_tokens} tokens, "
            + f"quota {self.quota_tokens} tokens/min, bulkhead {self.concurrency} calls"
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


def _count(option: str, value: str) -> int:
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise InputError(f"demo option {option}: {value!r} is not a whole number") from None
    if number < 1:
        raise InputError(f"demo option {option}: must be at least 1")
    return number


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
    values = dict(options)
    if "budget" in values:
        values["timeout"] = values.pop("budget")
    numbers: dict[str, float | int] = {}
    for option in NUMBER_OPTIONS:
        text = values.get(option.spec)
        if not text:
            continue
        parse = _duration if option.kind == "duration" else _count
        numbers[option.field] = parse(option.spec, text)
    config = replace(
        HardenedConfig(),
        defences=frozenset(DEFENCES) - parse_without(values.get("without", "")),
        **numbers,  # type: ignore[arg-type]
    )
    return replace(config, attempt_timeout=min(config.attempt_timeout, config.budget))
