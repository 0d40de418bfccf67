"""Which active faults fire for a call: match filters, first-N, every-Nth, first attempts
and probability; a latency ramp's value at the call's moment; the phase's rate limits.

Each fault keeps its own counter of matching calls and its own RNG seeded by (run seed,
position, description), so a run with the same seed and the same call order draws the same
decisions. Replacing the active set resets every counter.

`first_attempt` picks each request's first attempt: by the SDK's `x-stainless-retry-count`
(0) when the call sends one, else the first call naming the request's reference (the lab's
case reference, `KQX-482135`, in the last user turn), else every call counts as a first.
A `rate_limits` fault fires on no call by itself: it counts every call as matched and each
call its limits refused (a 429) as hit.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from gaplab.provider.faults import LatencyRamp, ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.profiles import RateLimits

# The lab's request reference (gaplab.load.inputs.reference.REFERENCE_RE), kept here so the
# provider depends on nothing of the load generator.
_REFERENCE = re.compile(r"\b[A-Z]{3}-\d{6}\b")


def first_reference(text: str) -> str | None:
    found = _REFERENCE.search(text)
    return found.group(0) if found else None


@dataclass(frozen=True)
class CallFacts:
    """What scheduling may look at: the call's model, user and dialect."""

    dialect: str
    model: str | None
    user: str | None
    retry_count: int | None = None  # x-stainless-retry-count, when sent
    reference: str | None = None  # the request reference in the last user turn, if any


@dataclass
class _Armed:
    fault: ProviderFault
    rng: random.Random
    set_at: float
    matched: int = 0
    fired: int = 0
    references: set[str] = field(default_factory=set)  # first attempts seen (first_attempt)


@dataclass
class FaultSchedule:
    seed: int = 1
    _armed: list[_Armed] = field(default_factory=list)
    span: float | None = None  # how long the active set is meant to last (a phase)

    def replace(
        self, faults: Sequence[ProviderFault], now: float, span: float | None = None
    ) -> None:
        self.span = span
        self._armed = [
            _Armed(fault, _fault_rng(self.seed, index, fault), now)
            for index, fault in enumerate(faults)
        ]

    @property
    def wants_references(self) -> bool:
        """True when some active fault picks first attempts (worth reading references)."""
        return any(a.fault.first_attempt for a in self._armed)

    @property
    def rate_limits(self) -> RateLimits | None:
        """The limits a `rate_limits` fault sets for this phase, if one is active."""
        return next((a.fault.rate_limits for a in self._armed if a.fault.rate_limits), None)

    def rate_refused(self) -> str:
        """The phase's rate limits refused a call: a hit of the fault that set them, whose
        description is returned (for the call's journal record)."""
        for armed in self._armed:
            if armed.fault.rate_limits is not None:
                armed.fired += 1
                return armed.fault.describe()
        return ""

    @property
    def faults(self) -> list[ProviderFault]:
        return [armed.fault for armed in self._armed]

    def firing(self, facts: CallFacts, now: float) -> list[ProviderFault]:
        """The faults that apply to this call, counting it against each one that matches."""
        fired: list[ProviderFault] = []
        for armed in self._armed:
            fault = armed.fault
            if fault.rate_limits is not None:
                armed.matched += 1  # every call meets the phase's limits; hits are refusals
                continue
            if not matches(fault, facts):
                continue
            if fault.after is not None and now - armed.set_at < fault.after:
                continue
            if fault.first_attempt and not _first_attempt(armed, facts):
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
            if isinstance(fault.latency, LatencyRamp):  # its value now, as a plain latency
                current = fault.latency.at(now - armed.set_at, self.span)
                fault = fault.model_copy(update={"latency": current})
            fired.append(fault)
        return fired

    def counters(self) -> list[dict[str, int]]:
        return [{"matched": a.matched, "fired": a.fired} for a in self._armed]


def _first_attempt(armed: _Armed, facts: CallFacts) -> bool:
    if facts.retry_count is not None:
        return facts.retry_count == 0
    if facts.reference is None:
        return True
    if facts.reference in armed.references:
        return False
    armed.references.add(facts.reference)
    return True


def _fault_rng(seed: int, index: int, fault: ProviderFault) -> random.Random:
    text = f"{seed}:{index}:{fault.model_dump_json()}".encode()
    return random.Random(int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big"))


def facts_of(call: ProviderCall) -> CallFacts:
    """The facts scheduling saw for a journaled call (for checks judging scoped faults)."""
    user = call.correlation.get("user") or call.correlation.get("metadata.user_id")
    return CallFacts(call.dialect, call.model_requested, user, call.retry_count)


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
