"""Same seed, same inputs: each virtual user's inputs follow from (seed, user index), and
every input names a reference unique in the run."""

from __future__ import annotations

from gaplab.load.inputs import InputMix, Questions, reference, references_in
from gaplab.scenario.load_models import LoadSpec


def _inputs(seed: int, user: int, count: int = 20, inputs: object = "questions") -> list[str]:
    mix = InputMix(LoadSpec.model_validate({"inputs": inputs}).inputs, seed)
    stream = mix.stream(user)
    return [stream.next().text for _ in range(count)]


def test_same_seed_same_questions_per_user() -> None:
    assert _inputs(7, 3) == _inputs(7, 3)
    assert _inputs(7, 3) != _inputs(7, 4)
    assert _inputs(7, 3) != _inputs(8, 3)


def test_questions_are_varied_and_readable() -> None:
    assert len(Questions(1)) == 256
    questions = set(_inputs(1, 0, 200))
    assert len(questions) > 100
    assert all(q.endswith("?") and len(q) > 30 for q in questions)


def test_every_question_names_its_own_reference() -> None:
    texts = [t for user in range(30) for t in _inputs(3, user, 40)]
    found = [references_in(t) for t in texts]
    assert all(len(refs) == 1 for refs in found)
    assert len({refs[0] for refs in found}) == len(texts)


def test_references_are_unique_by_construction() -> None:
    seen = {reference(5, user, seq) for user in range(0, 17_576, 97) for seq in range(300)}
    assert len(seen) == len(range(0, 17_576, 97)) * 300
    assert reference(5, 1, 2) != reference(6, 1, 2)


def test_repeated_questions_are_identical_and_carry_no_reference() -> None:
    texts = _inputs(2, 0, 50, {"repeated": {"pool": 3}})
    assert len(set(texts)) <= 3 and not any(references_in(t) for t in texts)


def test_a_mix_draws_kinds_in_their_shares() -> None:
    mix = InputMix(LoadSpec.model_validate({"inputs": {"questions": 3, "repeated": 1}}).inputs, 4)
    kinds = [mix.stream(u).next().kind for u in range(2000)]
    assert 0.2 < kinds.count("repeated") / len(kinds) < 0.3
