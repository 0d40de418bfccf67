"""The `load:` section of a scenario: who the virtual users are, how they arrive, and what
they type.

Two load models (docs/concepts.md says when to use which):
- **closed** (`users: 20, think: 200ms`): each user sends, waits for the answer, thinks,
  repeats. The crowd slows down when the target does.
- **open** (`arrival: 30/s`, optionally `stages:`): requests start at a rate whatever the
  target does (k6's constant- and ramping-arrival-rate), at most `max_in_flight` at once;
  an arrival that finds no room is *dropped* and counted. Production traffic behaves so,
  which is what makes retry storms visible.

`inputs:` is one kind or a weighted mix of kinds (`{questions: 70, injection: 20, pii:
10}`); a kind's options go in a mapping with its `weight`. Every model here is strict.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from gaplab.errors import InputError
from gaplab.scenario.durations import Duration, parse_rate

Rate = Annotated[float, BeforeValidator(parse_rate)]  # requests per second

INPUT_KINDS: tuple[str, ...] = (
    "questions",
    "injection",
    "extraction",
    "documents",
    "pii",
    "repeated",
    "conversation",
)
PII_TYPES: tuple[str, ...] = (
    "name",
    "email",
    "phone",
    "address",
    "iban",
    "card",
    "us_ssn",
    "uk_nino",
    "de_tax_id",
    "fr_nir",
)
PII_LOCALES: tuple[str, ...] = ("en_US", "en_GB", "de_DE", "fr_FR")


class KindOptions(BaseModel):
    """Options every input kind has: its share of the mix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weight: float = Field(default=1.0, gt=0, description="relative share of the mix")


class QuestionsOptions(KindOptions):
    """Everyday support questions: what a feature sees on a normal day."""


class InjectionOptions(KindOptions):
    """Direct prompt injection: the user's message orders the model to do something else."""

    techniques: tuple[str, ...] = Field(
        default=(), description="only payloads of these techniques (default: every direct one)"
    )
    owasp: tuple[str, ...] = Field(default=(), description="only payloads with these OWASP ids")

    @field_validator("techniques")
    @classmethod
    def _known_techniques(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from gaplab.load.payloads import expand_techniques  # the library's own names

        try:
            expand_techniques(value)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("owasp")
    @classmethod
    def _known_owasp(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from gaplab.load.payloads import OWASP

        unknown = sorted(set(value) - set(OWASP))
        if unknown:
            raise ValueError(f"unknown OWASP id(s) {', '.join(unknown)}; known: {', '.join(OWASP)}")
        return value


class ExtractionOptions(KindOptions):
    """Requests for the system prompt or hidden instructions."""


class DocumentsOptions(KindOptions):
    """A user pastes a document and asks about it; optionally with an instruction hidden in
    it (indirect injection). Size in pages (about 500 tokens each) or tokens."""

    pages: int | None = Field(default=None, ge=1, le=2_000)
    tokens: int | None = Field(default=None, ge=50, le=2_000_000)
    hidden: Literal["none", "injection", "extraction", "exfiltration"] = Field(
        default="none", description="an instruction hidden inside the document"
    )

    @model_validator(mode="after")
    def _one_size(self) -> DocumentsOptions:
        if self.pages is not None and self.tokens is not None:
            raise ValueError("give the document size once: `pages` or `tokens`")
        return self

    @property
    def size_tokens(self) -> int:
        if self.tokens is not None:
            return self.tokens
        return (self.pages if self.pages is not None else 50) * TOKENS_PER_PAGE


TOKENS_PER_PAGE = 500  # a dense page of prose


class PiiOptions(KindOptions):
    """Forms and free text carrying personal data; the lab records every value it planted."""

    types: tuple[Literal[PII_TYPES], ...] = Field(  # type: ignore[valid-type]
        default=PII_TYPES, min_length=1
    )
    locales: tuple[Literal[PII_LOCALES], ...] = Field(  # type: ignore[valid-type]
        default=PII_LOCALES, min_length=1
    )


class RepeatedOptions(KindOptions):
    """A small pool of identical questions (what a cache should absorb). They carry no
    per-request reference: identical means identical."""

    pool: int = Field(default=5, ge=1, le=1_000)


class ConversationOptions(KindOptions):
    """Sessions of several turns: a question, then follow-ups naming the same case; each
    turn carries the session's id, which the target file sends as `{conversation}`."""

    turns: int = Field(default=20, ge=2, le=500, description="turns in each session")


def _mix(value: Any) -> Any:
    """`questions` -> `{questions: {}}`; `{injection: 20}` -> `{injection: {weight: 20}}`."""
    if isinstance(value, str):
        return {value: {}}
    if isinstance(value, dict):
        return {
            kind: {"weight": options} if isinstance(options, int | float) else options
            for kind, options in value.items()
        }
    return value


class InputMix(BaseModel):
    """Which kinds of input the users send, and in which shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    questions: QuestionsOptions | None = None
    injection: InjectionOptions | None = None
    extraction: ExtractionOptions | None = None
    documents: DocumentsOptions | None = None
    pii: PiiOptions | None = None
    repeated: RepeatedOptions | None = None
    conversation: ConversationOptions | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> InputMix:
        if not self.kinds:
            raise ValueError("name at least one input kind, e.g. `inputs: questions`")
        return self

    @property
    def kinds(self) -> dict[str, KindOptions]:
        """Kind -> its options, in the order of `INPUT_KINDS`."""
        found = {kind: getattr(self, kind) for kind in INPUT_KINDS}
        return {kind: options for kind, options in found.items() if options is not None}

    def share(self, kind: str) -> float:
        kinds = self.kinds
        total = sum(options.weight for options in kinds.values())
        return kinds[kind].weight / total if kind in kinds else 0.0


class Stage(BaseModel):
    """One stage of ramping arrivals: move linearly to `target` over `for`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    target: Rate = Field(ge=0, le=100_000)
    duration: Duration = Field(alias="for", gt=0)


class GreedySpec(BaseModel):
    """One extra user far above the others' rate (`cost.budget_enforced`): `sessions`
    request loops at once, each sending again `think` after its answer, all as the one
    user id `user-greedy`, in the listed phases (default: all of them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sessions: int = Field(default=8, ge=1, le=200, description="requests the user keeps in flight")
    think: Duration = Field(default=0.05, description="pause of each loop after an answer")
    inputs: Annotated[InputMix, BeforeValidator(_mix)] | None = Field(
        default=None, description="what the greedy user sends (default: the load's inputs)"
    )
    phases: tuple[str, ...] = Field(
        default=(), description="phases the greedy user is active in (default: every phase)"
    )


class LocustOptions(BaseModel):
    """How a run on Locust (`lab run --load locust`) treats its workers; ignored by the
    built-in load. `allow_lost_workers`: workers the run may lose and still be judged (their
    users move to the remaining workers); one more lost leaves the run incomplete."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_lost_workers: int = Field(
        default=0,
        ge=0,
        le=1_000,
        description="Locust workers the run may lose and still be judged (default 0)",
    )


class LoadSpec(BaseModel):
    """Virtual users: closed (`users`, `think`) or open (`arrival`, `stages`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="closed: concurrent users; open: distinct user ids the arrivals take turns",
    )
    think: Duration = 0.2
    arrival: Rate | None = Field(
        default=None, gt=0, le=100_000, description="open model: requests started per second"
    )
    stages: tuple[Stage, ...] = Field(
        default=(), description="open model: ramp the arrival rate, from `arrival` (or 0)"
    )
    max_in_flight: int = Field(
        default=1_000, ge=1, le=100_000, description="open model: arrivals past this are dropped"
    )
    inputs: Annotated[InputMix, BeforeValidator(_mix)] = InputMix(questions=QuestionsOptions())
    opt_out: float = Field(
        default=0.0, ge=0, le=1, description="share of users who opted out of AI processing"
    )
    patience: Duration = Field(
        default=30.0, gt=0, description="a user gives up on a request after this long"
    )
    non_ai_interval: Duration = Field(
        default=0.25, gt=0, description="how often each non-AI endpoint is probed"
    )
    ramp: Duration = Field(default=0.0, description="spread user start times over this long")
    greedy: GreedySpec | None = Field(
        default=None, description="one more user, far above the others' rate"
    )
    locust: LocustOptions = Field(
        default=LocustOptions(), description="`--load locust` only: how lost workers count"
    )

    @property
    def open(self) -> bool:
        """True for arrival-rate load (the open model)."""
        return self.arrival is not None or bool(self.stages)
