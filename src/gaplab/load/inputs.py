"""Seeded inputs for virtual users. Same seed, same inputs, whatever the timing.

A pool of questions is generated once per run from the seed (Faker supplies the nouns), and
each user draws from it with its own RNG derived from (seed, user index), so user 7 asks the
same sequence of questions in every run with that seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker

_TEMPLATES = (
    "How do I reset the password for my {product} account?",
    "What is your refund policy for {product} orders shipped to {city}?",
    "Can you summarise the warranty terms for the {product}?",
    "My {product} stopped syncing after the last update. What should I try?",
    "Is the {product} available in {color}, and how long does delivery to {city} take?",
    "How can I change the billing address on invoice {invoice}?",
    "Which plan includes {feature} for a team of {count} people?",
    "Why was I charged twice for order {invoice}?",
    "How do I export my {feature} data to a spreadsheet?",
    "What are your support hours for customers in {country}?",
)
_FEATURES = (
    "shared calendars",
    "audit logs",
    "single sign-on",
    "usage reports",
    "offline mode",
    "API access",
    "priority support",
    "custom domains",
)


@dataclass(frozen=True)
class UserInput:
    text: str
    kind: str = "question"


class QuestionPool:
    """Everyday support questions: the traffic an AI feature sees on a normal day."""

    def __init__(self, seed: int, size: int = 256) -> None:
        faker = Faker("en_US")
        faker.seed_instance(seed)
        rng = random.Random(seed)
        self._questions = tuple(
            rng.choice(_TEMPLATES).format(
                product=faker.word().capitalize() + " " + rng.choice(("Pro", "Go", "Max", "Air")),
                city=faker.city(),
                color=faker.color_name().lower(),
                invoice=f"INV-{rng.randrange(10_000, 99_999)}",
                feature=rng.choice(_FEATURES),
                count=rng.randrange(3, 250),
                country=faker.country(),
            )
            for _ in range(size)
        )

    def __len__(self) -> int:
        return len(self._questions)

    def stream(self, seed: int, user_index: int) -> UserStream:
        return UserStream(self._questions, random.Random(f"{seed}:{user_index}"))


class UserStream:
    """The endless, reproducible sequence of inputs of one user."""

    def __init__(self, questions: tuple[str, ...], rng: random.Random) -> None:
        self._questions = questions
        self._rng = rng

    def next(self) -> UserInput:
        return UserInput(self._rng.choice(self._questions))
