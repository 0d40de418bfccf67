"""When each open-model arrival is due: k6's constant- and ramping-arrival-rate, plus
per-phase rates, as a pure function of the scenario.

The arrival rate r(t) is piecewise linear on the run's timeline (t = 0 when the first
phase starts):
- `load.arrival` alone: constant;
- `load.stages`: from `load.arrival` (or 0) the rate moves linearly to each stage's
  `target` over its `for`, one stage after the other, then holds the last target;
- a phase with its own `arrival` overrides both for its whole duration.

Arrival n (0, 1, 2...) is due when the integral of r reaches n, so the first one goes out
when the timeline starts and a rate of 30/s puts one every 33.3 ms; a change of rate
carries the fraction already accumulated, so no arrival is lost or doubled at a phase
edge, and one due exactly at a change belongs to what follows (a phase at rate 0 has none).

Written by hand because it is a few lines of exact arithmetic (the inverse of a quadratic)
that no scheduling library offers for arbitrary stages.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gaplab.scenario.load_models import LoadSpec


@dataclass(frozen=True)
class Piece:
    """The rate moves linearly from `rate_start` to `rate_end` between `start` and `end`."""

    start: float
    end: float  # math.inf for the last piece, which holds its rate
    rate_start: float
    rate_end: float

    @property
    def area(self) -> float:
        """Arrivals due in this piece."""
        if math.isinf(self.end):
            return math.inf if self.rate_start > 0 else 0.0
        return (self.rate_start + self.rate_end) / 2 * (self.end - self.start)

    def rate_at(self, t: float) -> float:
        if math.isinf(self.end) or self.end == self.start:
            return self.rate_start
        share = (t - self.start) / (self.end - self.start)
        return self.rate_start + (self.rate_end - self.rate_start) * share

    def time_of(self, need: float) -> float:
        """When the integral from `start` reaches `need` (0 ≤ need ≤ area)."""
        if need <= 0:
            return self.start
        r0 = self.rate_start
        slope = 0.0 if math.isinf(self.end) else (self.rate_end - r0) / (self.end - self.start)
        # r0·x + slope·x²/2 = need, in the form that stays exact when the slope is 0.
        root = math.sqrt(max(0.0, r0 * r0 + 2 * slope * need))
        denominator = r0 + root
        x = 2 * need / denominator if denominator > 0 else 0.0
        return min(self.start + x, self.end)


def _load_rate(load: LoadSpec) -> list[Piece]:
    """The load-level rate (arrival and stages), before phase overrides."""
    rate = load.arrival or 0.0
    pieces, t = [], 0.0
    for stage in load.stages:
        pieces.append(Piece(t, t + stage.duration, rate, stage.target))
        t, rate = t + stage.duration, stage.target
    pieces.append(Piece(t, math.inf, rate, rate))
    return pieces


def _cut(pieces: list[Piece], start: float, end: float) -> list[Piece]:
    """The parts of `pieces` between `start` and `end`."""
    cut = []
    for piece in pieces:
        lo, hi = max(piece.start, start), min(piece.end, end)
        if hi > lo:
            cut.append(Piece(lo, hi, piece.rate_at(lo), piece.rate_at(hi)))
    return cut


@dataclass(frozen=True)
class ArrivalPlan:
    pieces: tuple[Piece, ...]

    @classmethod
    def build(cls, load: LoadSpec, phases: Sequence[tuple[float, float | None]]) -> ArrivalPlan:
        """`phases`: (duration, own arrival rate or None) in timeline order."""
        base = _load_rate(load)
        pieces: list[Piece] = []
        t = 0.0
        for duration, own in phases:
            if own is not None:
                pieces.append(Piece(t, t + duration, own, own))
            else:
                pieces.extend(_cut(base, t, t + duration))
            t += duration
        # After the timeline: the last phase's own rate holds, or the load's rate goes on.
        if phases and phases[-1][1] is not None:
            pieces.append(Piece(t, math.inf, phases[-1][1], phases[-1][1]))
        else:
            pieces.extend(_cut(base, t, math.inf))
        return cls(tuple(pieces))

    def rate_at(self, t: float) -> float:
        for piece in self.pieces:
            if piece.start <= t < piece.end:
                return piece.rate_at(t)
        return self.pieces[-1].rate_end

    def offsets(self) -> Iterator[float]:
        """Due times of arrivals 0, 1, 2... (seconds from the timeline start); ends only
        when the rate falls to 0 for good."""
        n, done = 0, 0.0  # next arrival; arrivals due before the current piece
        for piece in self.pieces:
            area = piece.area
            while n - done < area:  # one due exactly at the end belongs to the next
                yield piece.time_of(n - done)
                n += 1
            done += area

    def expected(self, start: float, end: float) -> float:
        """Arrivals due between `start` and `end` (for tests and benchmarks)."""
        return sum(p.area for p in _cut(list(self.pieces), start, end) if not math.isinf(p.area))
