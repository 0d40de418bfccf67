"""Same seed, same inputs: each virtual user's questions follow from (seed, user index)."""

from __future__ import annotations

from gaplab.load.inputs import QuestionPool


def _questions(seed: int, user: int, count: int = 20) -> list[str]:
    stream = QuestionPool(seed).stream(seed, user)
    return [stream.next().text for _ in range(count)]


def test_same_seed_same_questions_per_user() -> None:
    assert _questions(7, 3) == _questions(7, 3)
    assert _questions(7, 3) != _questions(7, 4)
    assert _questions(7, 3) != _questions(8, 3)


def test_questions_are_varied_and_readable() -> None:
    pool = QuestionPool(1)
    questions = {_q for _q in _questions(1, 0, 200)}
    assert len(pool) == 256 and len(questions) > 100
    assert all(q.endswith("?") and len(q) > 20 for q in questions)
