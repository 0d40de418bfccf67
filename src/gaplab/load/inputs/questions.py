"""Everyday support questions: the traffic an AI feature sees on a normal day.

A pool of questions is generated once per run from the seed (Faker supplies the nouns);
each input draws one with the user's RNG and names its case reference the way people write
to support ("Case KQX-482135: ...").
"""

from __future__ import annotations

import random

from faker import Faker

from gaplab.load.inputs.base import UserInput

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
# How a message names its case: varied, as people write them.
CASE_OPENERS = ("Case {ref}: ", "Re case {ref}. ", "About case {ref}: ", "Ticket {ref}. ")


def with_reference(rng: random.Random, reference: str, text: str) -> str:
    """`text` opened by its case reference (unchanged when there is none)."""
    if not reference:
        return text
    return rng.choice(CASE_OPENERS).format(ref=reference) + text


def question_pool(seed: int, size: int = 256) -> tuple[str, ...]:
    faker = Faker("en_US")
    faker.seed_instance(seed)
    rng = random.Random(seed)
    return tuple(
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


class Questions:
    kind = "questions"

    def __init__(self, seed: int, size: int = 256) -> None:
        self.pool = question_pool(seed, size)

    def __len__(self) -> int:
        return len(self.pool)

    def make(self, rng: random.Random, reference: str) -> UserInput:
        text = with_reference(rng, reference, rng.choice(self.pool))
        return UserInput(text, self.kind, reference)


class Repeated:
    """A handful of identical questions asked again and again (what a cache absorbs)."""

    kind = "repeated"

    def __init__(self, seed: int, pool: int) -> None:
        self.pool = question_pool(seed + 1_000_003, pool)

    def make(self, rng: random.Random, reference: str) -> UserInput:
        return UserInput(rng.choice(self.pool), self.kind)
