"""Direct attacks: prompt injection and system-prompt extraction typed by a user.

Each input draws one payload of the library (`gaplab.load.payloads`), fills it with a fresh
canary and attacker URL from the user's RNG, and sometimes puts an ordinary question before
it, as attackers hide an order behind a plausible request. The reference opens the first
line; the ground truth (payload id, technique, OWASP ids, canary, URL) is in the input.
"""

from __future__ import annotations

import random

from gaplab.errors import InputError
from gaplab.load.inputs.base import Planted, UserInput
from gaplab.load.inputs.canaries import attacker_url, canary
from gaplab.load.inputs.questions import question_pool, with_reference
from gaplab.load.payloads import Payload, PayloadLibrary, load_library, render
from gaplab.scenario.load_models import InjectionOptions

_LEAD_SHARE = 0.4  # share of attacks that follow an ordinary question


def fill(rng: random.Random, payload: Payload) -> tuple[str, tuple[Planted, ...]]:
    """The payload rendered with a fresh canary and URL, and what was planted."""
    planted: list[Planted] = []
    value = url = ""
    if "{canary}" in payload.text + payload.encode:
        value = canary(rng)
        planted.append(Planted("canary", value))
    if "{url}" in payload.text + payload.encode:
        url = attacker_url(rng)
        planted.append(Planted("url", url))
    return render(payload, value, url), tuple(planted)


def attack_input(
    rng: random.Random, reference: str, kind: str, payload: Payload, lead: str = ""
) -> UserInput:
    body, planted = fill(rng, payload)
    if lead:
        # A payload written on several lines (fake turns, front matter) keeps its lines.
        body = lead + ("\n\n" if "\n" in body else " ") + body
    elif "\n" in body:
        body = "\n" + body
    return UserInput(
        with_reference(rng, reference, body),
        kind,
        reference,
        payload=payload.id,
        technique=payload.technique,
        owasp=payload.owasp,
        planted=planted,
    )


class _AttackSource:
    kind = ""

    def __init__(self, seed: int, payloads: tuple[Payload, ...]) -> None:
        self.payloads = payloads
        self.leads = question_pool(seed + 7, 64)

    def make(self, rng: random.Random, reference: str) -> UserInput:
        payload = rng.choice(self.payloads)
        lead = rng.choice(self.leads) if rng.random() < _LEAD_SHARE else ""
        return attack_input(rng, reference, self.kind, payload, lead)


class Injection(_AttackSource):
    """Direct prompt injection; `techniques` and `owasp` narrow the payloads drawn."""

    kind = "injection"

    def __init__(
        self, seed: int, options: InjectionOptions, library: PayloadLibrary | None = None
    ) -> None:
        library = library or load_library()
        payloads = library.select(options.techniques, options.owasp, kinds=("direct",))
        if not payloads:
            raise InputError(
                f"inputs.injection: no payload of library v{library.version} is a direct "
                f"message with techniques {list(options.techniques) or 'any'} and OWASP ids "
                f"{list(options.owasp) or 'any'} (see `lab payloads --kind direct`)"
            )
        super().__init__(seed, payloads)


class Extraction(_AttackSource):
    """Requests for the system prompt or the hidden instructions."""

    kind = "extraction"

    def __init__(self, seed: int, library: PayloadLibrary | None = None) -> None:
        super().__init__(seed, (library or load_library()).select(kinds=("extraction",)))
