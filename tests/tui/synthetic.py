"""A run made of synthetic events, fed through the real `Aggregator`, for widget tests.

Timeline (seconds): baseline 0-2 (10 ok requests, 250 ms, one provider call each), outage
2-4 (4 errors in 5 ms, 3 degraded in 40 ms, 14 provider calls: retries), now = 3.0.
"""

from __future__ import annotations

from gaplab.engine.events import (
    CheckEvaluated,
    Event,
    FaultChanged,
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunStarted,
    UserRequestFinished,
)
from gaplab.metrics.aggregator import Aggregator
from gaplab.provider.journal import ProviderCall
from gaplab.scenario.models import Scenario

SCENARIO = Scenario.model_validate(
    {
        "name": "synthetic",
        "title": "Synthetic outage",
        "phases": [
            {"name": "baseline", "for": "2s"},
            {"name": "outage", "for": "2s", "faults": [{"provider": {"error": 503}}]},
        ],
        "checks": ["resilience.fallback", "resilience.recovery"],
    }
)
OUTAGE = ("provider: error 503",)


def _request(n: int, t: float, phase: str, outcome: str, latency: float) -> UserRequestFinished:
    status = {"ok": 200, "degraded": 200, "error": 500}[outcome]
    return UserRequestFinished(
        t=t + latency,
        request_id=f"req-{n}",
        user="user-0001",
        phase=phase,
        started=t,
        latency=latency,
        outcome=outcome,
        status=status,
    )


def _call(n: int, t: float, status: int) -> ProviderCallRecorded:
    call = ProviderCall(
        call_id=f"call-{n}",
        dialect="openai",
        path="/v1/chat/completions",
        t_arrival=t,
        t_first_byte=t + 0.01,
        t_end=t + 0.02,
        status=status,
        outcome="completed" if status == 200 else "error",
        cost_usd=0.001,
    )
    return ProviderCallRecorded(t=call.t_end, call=call)


def events() -> list[Event]:
    out: list[Event] = [
        RunStarted(
            t=0.0,
            run_id="run-1",
            scenario="synthetic",
            title="Synthetic outage",
            target="demo:naive",
            seed=7,
            sla=10.0,
            phases=(("baseline", 2.0), ("outage", 2.0)),
            provider_base_url="http://127.0.0.1:1/v1",
            target_base_url="http://127.0.0.1:2",
        ),
        PhaseStarted(
            t=0.0, phase="baseline", index=0, duration=2.0, faults=(), outage=False, slow=0.0
        ),
    ]
    for n in range(10):
        out += [_call(n, 0.15 * n, 200), _request(n, 0.15 * n, "baseline", "ok", 0.25)]
    out += [
        PhaseEnded(t=2.0, phase="baseline", index=0),
        PhaseStarted(
            t=2.0, phase="outage", index=1, duration=2.0, faults=OUTAGE, outage=True, slow=0.0
        ),
        FaultChanged(t=2.0, phase="outage", faults=OUTAGE),
    ]
    for n in range(14):
        out.append(_call(100 + n, 2.05 + 0.05 * n, 503))
    for n in range(4):
        out.append(_request(200 + n, 2.1 + 0.1 * n, "outage", "error", 0.005))
    for n in range(3):
        out.append(_request(300 + n, 2.5 + 0.1 * n, "outage", "degraded", 0.04))
    return out


def aggregator(now: float = 3.0, *, decided: bool = False) -> Aggregator:
    agg = Aggregator()
    for event in events():
        agg(event)
    if decided:
        agg(CheckEvaluated(t=now, check_id="resilience.fallback", verdict="fail", summary="x"))
    agg.now = now
    return agg
