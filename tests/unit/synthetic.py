"""Build run records from synthetic events, to feed the check evaluators in unit tests.

The events are the real engine types; only the timing is made up, evenly spaced.
"""

from __future__ import annotations

from gaplab.engine.events import (
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunFinished,
    RunStarted,
    UserRequestFinished,
)
from gaplab.engine.record import RunRecord
from gaplab.provider.journal import ProviderCall
from gaplab.scenario.loader import validate_text
from gaplab.scenario.models import Scenario

SCENARIO = """\
version: 1
name: synthetic
title: synthetic
phases:
  - {name: baseline, for: 10s}
  - name: outage
    for: 10s
    faults: [provider: {FAULT}]
  - {name: recovery, for: 15s}
checks: []
"""


def scenario(fault: str = "{error: 503}", checks: str = "[]") -> Scenario:
    text = SCENARIO.replace("{FAULT}", fault).replace("checks: []", f"checks: {checks}")
    return validate_text(text, "synthetic.yaml", Scenario)


class Builder:
    def __init__(self, *, outage_slow: float = 0.0, outage: bool = True) -> None:
        self.record = RunRecord()
        self.record(
            RunStarted(
                t=0,
                run_id="r",
                scenario="synthetic",
                title="t",
                target="x",
                seed=1,
                sla=10,
                phases=(("baseline", 10), ("outage", 10), ("recovery", 15)),
                provider_base_url="",
                target_base_url="",
            )
        )
        windows = [
            ("baseline", 0, 10, (), False, 0.0),
            ("outage", 10, 20, ("provider: error 503",), outage, outage_slow),
            ("recovery", 20, 35, (), False, 0.0),
        ]
        for index, (name, start, end, faults, is_outage, slow) in enumerate(windows):
            self.record(
                PhaseStarted(
                    t=start,
                    phase=name,
                    index=index,
                    duration=end - start,
                    faults=faults,
                    outage=is_outage,
                    slow=slow,
                )
            )
            self.record(PhaseEnded(t=end, phase=name, index=index))
        self._n = 0

    def requests(
        self,
        start: float,
        end: float,
        every: float,
        *,
        latency: float = 0.2,
        outcome: str = "ok",
        status: int = 200,
        phase: str = "",
        endpoint: str = "ai",
    ) -> None:
        t = start
        while t < end - 1e-9:
            self._n += 1
            window = next(w for w in self.record.phases if w.contains(t))
            self.record(
                UserRequestFinished(
                    t=t + latency,
                    request_id=f"req-{self._n}",
                    user="u",
                    phase=phase or window.name,
                    started=t,
                    latency=latency,
                    outcome=outcome,
                    status=status,
                    endpoint=endpoint,
                )
            )
            t += every

    def calls(self, start: float, end: float, every: float, *, status: int = 200) -> None:
        t = start
        while t < end - 1e-9:
            self._n += 1
            self.record(
                ProviderCallRecorded(
                    t=t,
                    call=ProviderCall(
                        call_id=f"call-{self._n}",
                        dialect="openai",
                        path="/v1/chat/completions",
                        t_arrival=t,
                        t_first_byte=t,
                        t_end=t + 0.05,
                        status=status,
                        outcome="completed" if status == 200 else "error",
                        read_timeout=600.0,
                    ),
                )
            )
            t += every

    def finish(self) -> RunRecord:
        self.record(RunFinished(t=35, status="completed"))
        return self.record
