"""Provider profiles (`mock_providers/*.yaml`): the models a mock provider serves, their
prices, context windows, latency and style, and the provider's rate limits.

`load_profile(name_or_path)` finds a bundled profile by name (the repo's `mock_providers/`
in an editable install, `gaplab/_bundled/mock_providers` in a wheel) or reads a user's file;
a bad file raises `InputError` with file:line:column locations.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gaplab.errors import InputError, Problem
from gaplab.scenario.durations import Duration
from gaplab.scenario.loader import load_model

Dialect = Literal["openai", "anthropic"]


class LatencyProfile(BaseModel):
    """Time to first token (log-normal around `ttft_median`) and streaming speed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ttft_median: Duration = 0.2
    ttft_sigma: float = Field(default=0.3, ge=0.0, le=3.0, description="log-normal spread")
    ttft_max: Duration = Field(default=5.0, description="cap on a single draw")
    tokens_per_second: float = Field(default=200.0, gt=0, description="streaming speed")


class Behaviour(BaseModel):
    """How a model words its answers, so that a model swap changes something observable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verbosity: int = Field(default=2, ge=1, le=12, description="sentences per answer")
    format: Literal["plain", "markdown", "bullets"] = "plain"
    opener: str = Field(default="", description="prefix every answer with this, e.g. 'Sure!'")
    closer: str = Field(default="", description="end every answer with this")


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="the dated id the provider answers with")
    aliases: tuple[str, ...] = ()
    created: int = 1_700_000_000
    context_window: int = Field(default=128_000, gt=0)
    max_output: int = Field(default=16_384, gt=0)
    price_input: float = Field(default=0.0, ge=0, description="USD per million input tokens")
    price_output: float = Field(default=0.0, ge=0, description="USD per million output tokens")
    price_cached_input: float | None = Field(
        default=None,
        ge=0,
        description="USD per million input tokens read from the prompt cache; unset: the "
        "model does no prompt caching (gaplab.provider.prompt_cache)",
    )
    latency: LatencyProfile | None = None
    behaviour: Behaviour = Behaviour()
    embedding: bool = Field(default=False, description="an embeddings model")
    dimensions: int = Field(default=1536, gt=0, description="embedding size when embedding")

    @property
    def caches_prompts(self) -> bool:
        return self.price_cached_input is not None

    def cost(self, tokens_in: int, tokens_out: int, tokens_cached: int = 0) -> float:
        """USD for one call: `tokens_in` prompt tokens, of which `tokens_cached` were read
        from the prompt cache (billed at `price_cached_input`), and `tokens_out`."""
        cached_price = self.price_input
        if self.price_cached_input is not None:
            cached_price = self.price_cached_input
        fresh = tokens_in - tokens_cached
        return (
            fresh * self.price_input + tokens_cached * cached_price + tokens_out * self.price_output
        ) / 1_000_000


class RateLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_minute: int | None = Field(default=None, gt=0)
    tokens_per_minute: int | None = Field(default=None, gt=0)
    # Anthropic-style separate limits (output counted from max_tokens at admission).
    input_tokens_per_minute: int | None = Field(default=None, gt=0)
    output_tokens_per_minute: int | None = Field(default=None, gt=0)


class ProviderProfile(BaseModel):
    """One provider: dialect, models, limits and the default latency profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    name: str = Field(min_length=1)
    dialect: Dialect
    default_model: str | None = Field(default=None, description="id or alias; first model if unset")
    models: tuple[ModelSpec, ...] = Field(min_length=1)
    latency: LatencyProfile = LatencyProfile()
    rate_limits: RateLimits = RateLimits()
    unknown_models: Literal["serve", "reject"] = Field(
        default="serve",
        description="serve an unknown model id with the default model, or answer 404",
    )

    @model_validator(mode="after")
    def _names_resolve(self) -> ProviderProfile:
        seen: set[str] = set()
        for spec in self.models:
            for name in (spec.id, *spec.aliases):
                if name in seen:
                    raise ValueError(f"model name {name!r} is used twice")
                seen.add(name)
        if self.default_model is not None and self.default_model not in seen:
            raise ValueError(f"default_model {self.default_model!r} is not one of the models")
        return self

    def find_model(self, name: str | None) -> ModelSpec | None:
        """The model for an id or alias; None when the profile does not know it."""
        for spec in self.models:
            if name == spec.id or name in spec.aliases:
                return spec
        return None

    @property
    def default(self) -> ModelSpec:
        return self.find_model(self.default_model) or self.models[0]

    def latency_of(self, spec: ModelSpec) -> LatencyProfile:
        return spec.latency or self.latency

    def with_latency_scale(self, factor: float) -> ProviderProfile:
        """A copy whose times to first token are `factor` times as long and streams
        `1/factor` times as fast (e.g. 0.01 for quick test suites)."""

        def scaled(latency: LatencyProfile) -> LatencyProfile:
            return latency.model_copy(
                update={
                    "ttft_median": latency.ttft_median * factor,
                    "ttft_max": latency.ttft_max * factor,
                    "tokens_per_second": latency.tokens_per_second / factor,
                }
            )

        models = tuple(
            m.model_copy(update={"latency": scaled(m.latency)}) if m.latency else m
            for m in self.models
        )
        return self.model_copy(update={"latency": scaled(self.latency), "models": models})


def bundled_profile_dirs() -> list[Path]:
    """Where bundled profiles live: the repo (editable install) and the wheel's copy."""
    dirs = [Path(__file__).resolve().parents[3] / "mock_providers"]
    try:
        bundled = resources.files("gaplab") / "_bundled" / "mock_providers"
        dirs.append(Path(str(bundled)))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - odd installs
        pass
    return [d for d in dirs if d.is_dir()]


def bundled_profile_names() -> list[str]:
    names = {p.stem for d in bundled_profile_dirs() for p in d.glob("*.yaml")}
    return sorted(names)


def load_profile(name_or_path: str | Path) -> ProviderProfile:
    """A bundled profile by name (`openai`) or a user's YAML file by path."""
    text = str(name_or_path)
    is_path = isinstance(name_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text
    if is_path:
        return load_model(Path(text), ProviderProfile)
    for directory in bundled_profile_dirs():
        candidate = directory / f"{text}.yaml"
        if candidate.is_file():
            return load_model(candidate, ProviderProfile)
    known = ", ".join(bundled_profile_names()) or "none found"
    raise InputError(Problem(text, None, None, "", f"no such provider profile (bundled: {known})"))
