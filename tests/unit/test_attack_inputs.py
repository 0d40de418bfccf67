"""Injection, extraction and document inputs: the payloads the scenario asks for, sizes as
the provider counts them, hidden instructions inside the body, the reference on the first
line, ground truth recorded, and the same inputs from the same (seed, user)."""

from __future__ import annotations

import random
import re

import pytest
from pydantic import ValidationError

from gaplab.errors import InputError
from gaplab.load.inputs import InputMix, references_in
from gaplab.load.inputs.attacks import Extraction, Injection
from gaplab.load.inputs.base import UserInput
from gaplab.load.inputs.documents import Documents
from gaplab.load.payloads import load_library
from gaplab.provider.tokens import count_tokens
from gaplab.scenario.load_models import DocumentsOptions, InjectionOptions, LoadSpec

LIBRARY = load_library()


def _stream(inputs: object, seed: int, user: int, count: int) -> list[UserInput]:
    mix = InputMix(LoadSpec.model_validate({"inputs": inputs}).inputs, seed)
    stream = mix.stream(user)
    return [stream.next() for _ in range(count)]


def _marker(made: UserInput) -> str:
    """A piece of the hidden payload as it appears in the document."""
    literal = max(re.split(r"\{\w+\}", LIBRARY.get(made.payload).text), key=len).strip()
    return literal if len(literal) >= 4 else made.planted[0].value


def _made(source: Injection | Extraction | Documents, count: int) -> list[UserInput]:
    rng = random.Random(1)
    return [source.make(rng, f"KQX-{n:06d}") for n in range(count)]


@pytest.mark.parametrize(
    "inputs",
    [
        "injection",
        "extraction",
        {"documents": {"pages": 2, "hidden": "injection"}},
        "pii",
        {"questions": 1, "injection": 1, "documents": {"weight": 1, "tokens": 400}, "pii": 1},
    ],
)
def test_inputs_follow_from_seed_and_user(inputs: object) -> None:
    def key(given: list[UserInput]) -> list[tuple[str, tuple[object, ...]]]:
        return [(i.text, i.planted) for i in given]

    assert key(_stream(inputs, 7, 3, 25)) == key(_stream(inputs, 7, 3, 25))
    assert key(_stream(inputs, 7, 3, 25)) != key(_stream(inputs, 7, 4, 25))
    assert key(_stream(inputs, 7, 3, 25)) != key(_stream(inputs, 8, 3, 25))


def test_injection_draws_only_the_techniques_and_owasp_ids_asked_for() -> None:
    source = Injection(1, InjectionOptions(techniques=("base64", "role_play")))
    made = _made(source, 300)
    assert {i.technique for i in made} == {"base64", "role_play"}
    assert {i.payload for i in made} == {p.id for p in source.payloads}
    families = Injection(1, InjectionOptions(techniques=("obfuscation",), owasp=("LLM07",)))
    assert families.payloads and all(
        p.family == "obfuscation" and "LLM07" in p.owasp for p in families.payloads
    )
    default = Injection(1, InjectionOptions())
    assert {p.id for p in default.payloads} == {p.id for p in LIBRARY.select(kinds=["direct"])}
    with pytest.raises(InputError, match=r"no payload of library v1\.0 is a direct message"):
        Injection(1, InjectionOptions(techniques=("hidden_in_document",)))
    # Unknown names are refused when the scenario is loaded, with the field's position.
    with pytest.raises(ValidationError, match="unknown payload technique 'base46'"):
        InjectionOptions(techniques=("base46",))


def test_attacks_record_their_ground_truth_and_open_with_the_reference() -> None:
    for source in (Injection(2, InjectionOptions()), Extraction(2)):
        for made in _made(source, 400):
            payload = LIBRARY.get(made.payload)
            assert (made.kind, made.technique, made.owasp) == (
                source.kind,
                payload.technique,
                payload.owasp,
            )
            first_line = made.text.splitlines()[0]
            assert references_in(first_line) == [made.reference]
            assert references_in(made.text) == [made.reference]
            planted = {p.kind for p in made.planted}
            assert ("canary" in planted) == ("canary" in payload.wants)
            if payload.encoding in ("none", "leetspeak", "zero_width", "homoglyph"):
                assert all(p.value in made.text for p in made.planted), made.payload
    assert all("system_prompt" in LIBRARY.get(i.payload).wants for i in _made(Extraction(3), 50))


@pytest.mark.parametrize("tokens", [600, 5_000, 25_000, 60_000])
def test_documents_have_the_size_the_provider_counts(tokens: int) -> None:
    for hidden in ("none", "injection"):
        options = DocumentsOptions(tokens=tokens, hidden=hidden)  # type: ignore[arg-type]
        for made in _made(Documents(4, options), 5):
            ask, document = made.text.split("\n\n", 1)
            assert references_in(ask) == [made.reference]
            assert abs(count_tokens(document) - tokens) <= max(2, tokens // 200), hidden


def test_fifty_pages_is_the_default_document() -> None:
    (made,) = _made(Documents(4, DocumentsOptions()), 1)
    document = made.text.split("\n\n", 1)[1]
    assert abs(count_tokens(document) - 25_000) <= 125
    assert made.payload == "" and made.planted == ()


@pytest.mark.parametrize("hidden", ["injection", "extraction", "exfiltration"])
def test_hidden_instructions_sit_inside_the_body(hidden: str) -> None:
    options = DocumentsOptions(pages=10, hidden=hidden)  # type: ignore[arg-type]
    source = Documents(6, options)
    assert {p.goal for p in source.payloads} == {hidden}
    used = set()
    for made in _made(source, 60):
        payload = LIBRARY.get(made.payload)
        used.add(payload.id)
        document = made.text.split("\n\n", 1)[1]
        at = document.find(_marker(made))
        assert 0.15 * len(document) < at < 0.85 * len(document), (made.payload, at)
        assert made.owasp == payload.owasp and made.technique == payload.technique
    assert len(used) >= 3


def test_tiny_documents_still_keep_paragraphs_around_the_hidden_instruction() -> None:
    for made in _made(Documents(2, DocumentsOptions(tokens=50, hidden="injection")), 20):
        paragraphs = made.text.split("\n\n")
        hidden_at = next(i for i, paragraph in enumerate(paragraphs) if _marker(made) in paragraph)
        assert 0 < hidden_at < len(paragraphs) - 1
