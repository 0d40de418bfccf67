"""The input mix of a run: which kind each request is, drawn per user from the seed.

`InputMix(scenario_inputs, seed)` builds one source per kind named in the scenario; each
user gets a `UserStream` whose draws depend only on (seed, user index), so user 7 sends the
same sequence of inputs in every run with that seed, whatever the timing. A drawn
`conversation` opens a session: the user's next requests are its turns, one after the
other, before the next kind is drawn.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from gaplab.load.inputs.attacks import Extraction, Injection
from gaplab.load.inputs.base import InputSource, UserInput
from gaplab.load.inputs.conversation import ConversationSource, Session
from gaplab.load.inputs.documents import Documents
from gaplab.load.inputs.pii import Pii
from gaplab.load.inputs.questions import Questions, Repeated
from gaplab.load.inputs.reference import References
from gaplab.scenario.load_models import (
    ConversationOptions,
    DocumentsOptions,
    InjectionOptions,
    KindOptions,
    PiiOptions,
)
from gaplab.scenario.load_models import InputMix as MixSpec

SourceFactory = Callable[[int, KindOptions], InputSource]


def _questions(seed: int, options: KindOptions) -> InputSource:
    return Questions(seed)


def _repeated(seed: int, options: KindOptions) -> InputSource:
    return Repeated(seed, getattr(options, "pool", 5))


def _injection(seed: int, options: KindOptions) -> InputSource:
    assert isinstance(options, InjectionOptions)
    return Injection(seed, options)


def _extraction(seed: int, options: KindOptions) -> InputSource:
    return Extraction(seed)


def _documents(seed: int, options: KindOptions) -> InputSource:
    assert isinstance(options, DocumentsOptions)
    return Documents(seed, options)


def _pii(seed: int, options: KindOptions) -> InputSource:
    assert isinstance(options, PiiOptions)
    return Pii(seed, options)


def _conversation(seed: int, options: KindOptions) -> InputSource:
    assert isinstance(options, ConversationOptions)
    return ConversationSource(seed, options)


SOURCES: dict[str, SourceFactory] = {
    "questions": _questions,
    "repeated": _repeated,
    "injection": _injection,
    "extraction": _extraction,
    "documents": _documents,
    "pii": _pii,
    "conversation": _conversation,
}


class InputMix:
    def __init__(self, spec: MixSpec, seed: int) -> None:
        self.seed = seed
        kinds = spec.kinds
        missing = sorted(set(kinds) - set(SOURCES))
        if missing:
            raise ValueError(f"no generator for input kind(s): {', '.join(missing)}")
        self.sources: dict[str, InputSource] = {
            kind: SOURCES[kind](seed, options) for kind, options in kinds.items()
        }
        self._names = list(kinds)
        self._weights = [options.weight for options in kinds.values()]

    def stream(self, user_index: int) -> UserStream:
        return UserStream(self, user_index)

    def draw(self, rng: random.Random, reference: str) -> UserInput:
        return self.source(rng).make(rng, reference)

    def source(self, rng: random.Random) -> InputSource:
        """The source of the next kind, drawn by weight."""
        kind = (
            self._names[0] if len(self._names) == 1 else rng.choices(self._names, self._weights)[0]
        )
        return self.sources[kind]


class UserStream:
    """The endless, reproducible sequence of inputs of one user."""

    def __init__(self, mix: InputMix, user_index: int) -> None:
        self._mix = mix
        self._user = user_index
        self._rng = random.Random(f"{mix.seed}:{user_index}")
        self._references = References(mix.seed, user_index)
        self._sequence = 0
        self._session: Session | None = None

    def next(self) -> UserInput:
        ref = self._references[self._sequence]
        self._sequence += 1
        if self._session is None:
            source = self._mix.source(self._rng)
            if not isinstance(source, ConversationSource):
                return source.make(self._rng, ref)
            self._session = source.open(ref)
        turn = self._session.next(self._rng, ref)
        if self._session.done:
            self._session = None
        return turn
