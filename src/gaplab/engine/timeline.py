"""The scenario timeline: which faults are active when, and what they mean for the checks.

Phase edges are scheduled on absolute run-clock times (start + cumulative durations), so a
slow fault application never makes later phases drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from gaplab.netfault.spec import NetworkFault
from gaplab.provider.faults import ProviderFault
from gaplab.scenario.models import Phase, Scenario


@dataclass(frozen=True)
class PlannedPhase:
    index: int
    phase: Phase
    start: float  # offset from the timeline start
    end: float

    @property
    def provider_faults(self) -> tuple[ProviderFault, ...]:
        return tuple(f.provider for f in self.phase.faults if f.provider is not None)

    @property
    def network_faults(self) -> tuple[NetworkFault, ...]:
        return tuple(f.network for f in self.phase.faults if f.network is not None)

    @property
    def outage(self) -> bool:
        return self.phase.outage

    @property
    def slow(self) -> float:
        return self.phase.slow

    @property
    def descriptions(self) -> tuple[str, ...]:
        return tuple(f.describe() for f in self.phase.faults)


def plan(scenario: Scenario) -> list[PlannedPhase]:
    planned, offset = [], 0.0
    for index, phase in enumerate(scenario.phases):
        planned.append(PlannedPhase(index, phase, offset, offset + phase.duration))
        offset += phase.duration
    return planned
