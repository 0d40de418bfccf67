"""Which active faults fire for a call: match filters, first-N, every-Nth and probability.

Each fault keeps its own counter of matching calls and its own RNG seeded by (run seed,
position, description), so a run with the same seed and the same call order draws the same
decisions. Replacing the active set resets every counter.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall


@dataclass(frozen=True)
class CallFacts:
    """What scheduling may look at: the call's model, user and dialect."""

    dialect: str
    model: str | None
    user: str | None


@dataclass
class _Armed:
    fault: ProviderFault
    rng: random.Random
    set_at: float
    matched: int = 0
    fired: int = 0


@dataclass
class FaultSchedule:
    seed: int = 1
    _armed: list[_Armed] = field(default_factory=list)

    def replace(self, faults: Sequence[ProviderFault], now: float) -> None:
        self._armed = [
            _Armed(fault, _fault_rng(self.seed, index, fault), now)
            for index, fault in enumerate(faults)
        ]

    @property
    def faults(self) -> list[ProviderFault]:
        return [armed.fault for armed in self._armed]

    def firing(self, facts: CallFacts, now: float) -> list[ProviderFault]:
        """The faults that apply to this call, counting it against each one that matches."""
        fired: list[ProviderFault] = []
        for armed in self._armed:
            fault = armed.fault
            if not matches(fault, facts):
                continue
            if fault.after is not None and now - armed.set_at < fault.after:
                continue
            armed.matched += 1
            if fault.first is not None and armed.matched > fault.first:
                continue
            if fault.every is not None and armed.matched % fault.every != 0:
                continue
            # Always draw so the sequence of decisions does not depend on `probability`.
            if armed.rng.random() >= fault.probability:
                continue
            armed.fired += 1
            fired.append(fault)
        return fired

    def counters(self) -> list[dict[str, int]]:
        return [{"matched": a.matched, "fired": a.fired} for a in self._armed]


def _fault_rng(seed: int, index: int, fault: ProviderFault) -> random.Random:
    text = f"{seed}:{index}:{fault.model_dump_json()}".encode()
    return random.Random(int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big"))


def facts_of(call: ProviderCall) -> CallFacts:
    """The facts scheduling saw for a journaled call (for checks judging scoped faults)."""
    user = call.correlation.get("user") or call.correlation.get("metadata.user_id")
    return CallFacts(call.dialect, call.model_requested, user)


def matches(fault: ProviderFault, facts: CallFacts) -> bool:
    """True when the call is inside the fault's `match` scope."""
    match = fault.match
    if match is None:
        return True
    if match.dialect is not None and match.dialect != facts.dialect:
        return False
    if match.user is not None and match.user != facts.user:
        return False
    return match.model is None or match.model == facts.model
