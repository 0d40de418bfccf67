"""Synthetic run records for the observability and integration checks: a scenario's phases
back to back on the run clock, with user requests, provider calls and the prober's events
(health probes, metrics scrapes, target actions) added by the test."""

from __future__ import annotations

from typing import Any

from gaplab.checks.base import CheckContext, CheckResult
from gaplab.checks.registry import CHECKS
from gaplab.engine.events import (
    HealthProbed,
    MetricsScraped,
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunFinished,
    RunStarted,
    TargetActed,
    UserRequestFinished,
)
from gaplab.engine.record import RunRecord
from gaplab.provider.journal import ProviderCall
from gaplab.scenario.loader import validate_text
from gaplab.scenario.models import Scenario
from gaplab.scenario.target_models import TargetFile


def scenario(phases: str, checks: str = "[]", load: str = "{users: 4}") -> Scenario:
    text = (
        "version: 1\nname: synthetic\ntitle: synthetic\n"
        f"load: {load}\nphases:\n{phases}\nchecks: {checks}\n"
    )
    return validate_text(text, "synthetic.yaml", Scenario)


class Run:
    """The record of `scenario` played from t=0, every phase to its end."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.record = RunRecord()
        self.windows: dict[str, tuple[float, float]] = {}
        self._n = 0
        t = 0.0
        phases = tuple((p.name, p.duration) for p in scenario.phases)
        self.record(
            RunStarted(t=0, run_id="r", scenario="synthetic", title="t", target="x", seed=1,
                       sla=10, phases=phases, provider_base_url="", target_base_url="")
        )  # fmt: skip
        for index, phase in enumerate(scenario.phases):
            end = t + phase.duration
            self.windows[phase.name] = (t, end)
            self.record(
                PhaseStarted(t=t, phase=phase.name, index=index, duration=phase.duration,
                             faults=tuple(str(f) for f in phase.faults), outage=phase.outage,
                             slow=phase.slow)
            )  # fmt: skip
            self.record(PhaseEnded(t=end, phase=phase.name, index=index))
            t = end
        self.end = t

    def phase_at(self, t: float) -> str:
        inside = (name for name, (a, b) in self.windows.items() if a <= t < b)
        return next(inside, self.scenario.phases[-1].name)  # the final scrape, at the end

    def request(
        self, t: float, *, latency: float = 0.2, outcome: str = "ok", status: int = 200,
        reference: str = "",
    ) -> str:  # fmt: skip
        self._n += 1
        request_id = f"req-{self._n}"
        self.record(
            UserRequestFinished(t=t + latency, request_id=request_id, user="u",
                                phase=self.phase_at(t), started=t, latency=latency,
                                outcome=outcome, status=status, reference=reference)
        )  # fmt: skip
        return request_id

    def call(self, t: float, duration: float = 0.05, **fields: Any) -> ProviderCall:
        self._n += 1
        values: dict[str, Any] = {"status": 200, "outcome": "completed", **fields}
        call = ProviderCall(call_id=f"call-{self._n}", dialect="openai",
                            path="/v1/chat/completions", t_arrival=t, t_first_byte=t,
                            t_end=t + duration, read_timeout=600.0, **values)  # fmt: skip
        self.record(ProviderCallRecorded(t=t, call=call))
        return call

    def health(self, start: float, end: float, degraded: bool, every: float = 0.5) -> None:
        t = start
        while t < end - 1e-9:
            self.record(HealthProbed(t=t, phase=self.phase_at(t), latency=0.002, status=200,
                                     degraded=degraded))  # fmt: skip
            t += every

    def scrape(self, t: float, **fields: Any) -> None:
        self.record(MetricsScraped(t=t, phase=self.phase_at(t), latency=0.003, status=200,
                                   **fields))  # fmt: skip

    def act(self, action: str, started: float, latency: float = 0.01, status: int = 200,
            **fields: Any) -> None:  # fmt: skip
        self.record(TargetActed(t=started + latency, action=action,
                                phase=self.phase_at(started), started=started,
                                latency=latency, status=status, **fields))  # fmt: skip

    def judge(self, check_id: str, target: TargetFile | None = None, **options: Any) -> CheckResult:
        self.record(RunFinished(t=self.end, status="completed"))
        check = CHECKS[check_id]
        context = CheckContext(self.scenario, self.record, 10.0, target=target)
        return check.decide(context, check.Options.model_validate(options))
