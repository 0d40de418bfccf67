"""Synthetic runs for the report tests: real engine events, made-up timing.

`naive_run` is what the naive demo does in an outage (every request retried three times,
500s to users, one unsafe answer quoting planted PII and an API key); `hardened_run` the
hardened one (one call, then degraded answers from its breaker). Both carry costs and
correlation ids, so the reports have series, examples with their calls, and cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gaplab.checks.decide import decide
from gaplab.engine.events import (
    Event,
    FaultCoverage,
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunFinished,
    RunStarted,
    UserRequestFinished,
)
from gaplab.engine.journal import JournalWriter
from gaplab.engine.record import RunRecord
from gaplab.metrics.aggregator import Aggregator
from gaplab.provider.journal import ProviderCall
from gaplab.report.masking import Masker
from gaplab.report.model import build_report
from gaplab.scenario.loader import validate_text
from gaplab.scenario.models import Scenario

PLANTED_EMAIL = "jane.roe@northwind-mail.test"
PLANTED_NAME = "Jane Roe-Fitzgerald"
SECRET_KEY = "sk-live-4f9Q2xT7LmNc8RbV1zKs"
SECRET_BEARER = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu"

SCENARIO = """\
version: 1
name: {name}
title: The provider returns 503 for ten seconds
phases:
  - {{name: baseline, for: 10s}}
  - name: outage
    for: 10s
    faults: [provider: {{error: 503}}]
  - {{name: recovery, for: {recovery}s}}
checks: [resilience.fallback, resilience.no_retry_storm, resilience.circuit_breaker,
         resilience.recovery, resilience.contained, resilience.timeout]
"""
START = 1.0  # the timeline starts 1 s into the run clock, as a real run's does


def scenario(name: str = "outage", recovery: float = 15) -> Scenario:
    text = SCENARIO.format(name=name, recovery=f"{recovery:g}")
    return validate_text(text, "synthetic.yaml", Scenario)


@dataclass
class Run:
    scenario: Scenario
    events: list[Event] = field(default_factory=list)
    n: int = 0

    def add(self, event: Event) -> None:
        self.events.append(event)

    @property
    def record(self) -> RunRecord:
        return RunRecord.from_events(self.events)

    def report(self, run_id: str = "run-a", target: str = "demo:naive") -> dict[str, Any]:
        record = self.record
        aggregator = Aggregator()
        for event in sorted(self.events, key=lambda e: e.t):
            aggregator(event)
        card = decide(self.scenario, record, 10.0, status="completed", fail_under=80)
        return build_report(
            run_id=run_id,
            status="completed",
            scenario=self.scenario.model_dump(mode="json"),
            target=target,
            seed=7,
            scorecard=card,
            snapshot=aggregator.snapshot(),
            coverage=record.coverage,
            masker=Masker.for_record(record),
            record=record,
        )

    def write_folder(self, folder: Path) -> Path:
        """A run folder `lab report` can rebuild: events.jsonl and scenario.json."""
        folder.mkdir(parents=True, exist_ok=True)
        writer = JournalWriter(folder / "events.jsonl")
        for event in sorted(self.events, key=lambda e: e.t):
            writer(event)
        writer.close()
        (folder / "scenario.json").write_text(self.scenario.model_dump_json(), encoding="utf-8")
        return folder


def _timeline(run: Run, recovery: float) -> None:
    phases = [
        ("baseline", 0.0, 10.0, ()),
        ("outage", 10.0, 20.0, ("provider: error 503",)),
        ("recovery", 20.0, 20.0 + recovery, ()),
    ]
    run.add(
        RunStarted(
            t=START - 0.1, run_id="r", scenario=run.scenario.name, title="t", target="x",
            seed=7, sla=10.0, phases=tuple((n, e - s) for n, s, e, _ in phases),
            provider_base_url="", target_base_url="",
        )
    )  # fmt: skip
    for index, (name, start, end, faults) in enumerate(phases):
        run.add(
            PhaseStarted(
                t=START + start, phase=name, index=index, duration=end - start, faults=faults,
                outage=bool(faults), slow=0.0,
            )
        )  # fmt: skip
        run.add(PhaseEnded(t=START + end, phase=name, index=index))


def _request(
    run: Run, t: float, phase: str, *, outcome: str, status: int, latency: float,
    calls: list[tuple[int, int]], detail: str = "", excerpt: str = "",
    planted: tuple[tuple[str, str], ...] = (), endpoint: str = "ai", cost: float = 0.00003,
) -> None:  # fmt: skip
    """One request at timeline second `t` and the calls (status, retry) it caused."""
    run.n += 1
    who = "probe" if endpoint != "ai" else f"user-{run.n % 7:04d}"
    request_id = f"{who}-{run.n:06d}"
    started = START + t
    for i, (call_status, retry) in enumerate(calls):
        arrival = started + 0.002 + i * 0.4
        run.add(
            ProviderCallRecorded(
                t=arrival + 0.05,
                call=ProviderCall(
                    call_id=f"call-{run.n}-{i}", dialect="openai", path="/v1/chat/completions",
                    t_arrival=arrival, t_first_byte=arrival + 0.04, t_end=arrival + 0.05,
                    status=call_status, outcome="completed" if call_status == 200 else "error",
                    model_requested="gpt-4o-mini", retry_count=retry,
                    cost_usd=cost if call_status == 200 else 0.0, tokens_in=80,
                    # The tokens gpt-4o-mini bills `cost` for (80 in: $0.000012).
                    tokens_out=round((cost * 1e6 - 12) / 0.6) if call_status == 200 else 0,
                    correlation={"x-request-id": request_id},
                    fault=None if call_status == 200 else "provider: error 503",
                ),
            )
        )  # fmt: skip
    run.add(
        UserRequestFinished(
            t=started + latency, request_id=request_id, user=who, phase=phase, started=started,
            latency=latency, outcome=outcome, status=status, detail=detail, endpoint=endpoint,
            excerpt=excerpt, planted=planted,
        )
    )  # fmt: skip


def _probes(run: Run, end: float) -> None:
    for step in range(round(end * 2)):
        t = step / 2
        phase = "baseline" if t < 10 else "outage" if t < 20 else "recovery"
        _request(
            run, t, phase, outcome="ok", status=200, latency=0.01, calls=[],
            endpoint="GET /notes/1",
        )  # fmt: skip


def naive_run(name: str = "outage", recovery: float = 15, every: float = 0.1) -> Run:
    run = Run(scenario(name, recovery))
    _timeline(run, recovery)
    end = 20 + recovery
    first_outage = True
    for step in range(round(end / every)):
        t = round(step * every, 6)
        if 10 <= t < 20:
            if first_outage:  # the target passed the provider's text on, with PII and a key
                _request(
                    run, t, "outage", outcome="unsafe", status=200, latency=1.3,
                    calls=[(503, 0), (503, 1), (503, 2)], detail="provider_error",
                    excerpt=f"Error for {PLANTED_NAME} <{PLANTED_EMAIL}>: invalid key "
                    f"{SECRET_KEY}, Authorization: Bearer {SECRET_BEARER}",
                    planted=(("pii.email", PLANTED_EMAIL), ("pii.name", PLANTED_NAME)),
                )  # fmt: skip
                first_outage = False
            else:
                _request(
                    run, t, "outage", outcome="error", status=500, latency=1.3,
                    calls=[(503, 0), (503, 1), (503, 2)], detail="HTTP 500",
                )  # fmt: skip
        else:
            phase = "baseline" if t < 10 else "recovery"
            _request(run, t, phase, outcome="ok", status=200, latency=0.5, calls=[(200, 0)])
    _probes(run, end)
    run.add(FaultCoverage(t=START + 20, phase="outage", index=0, fault="provider: error 503",
                          source="provider", hits=300))  # fmt: skip
    run.add(RunFinished(t=START + end + 0.5, status="completed"))
    return run


def hardened_run(name: str = "outage", recovery: float = 15) -> Run:
    run = Run(scenario(name, recovery))
    _timeline(run, recovery)
    end = 20 + recovery
    for step in range(round(end * 10)):
        t = step / 10
        if 10 <= t < 20:
            calls = [(503, 0)] if t < 10.5 else []  # the breaker opens after the first calls
            _request(
                run, t, "outage", outcome="degraded", status=200, latency=0.05, calls=calls,
                detail="fallback",
            )  # fmt: skip
        else:
            phase = "baseline" if t < 10 else "recovery"
            _request(
                run, t, phase, outcome="ok", status=200, latency=0.4, calls=[(200, 0)],
                cost=0.000021,
            )  # fmt: skip
    _probes(run, end)
    run.add(FaultCoverage(t=START + 20, phase="outage", index=0, fault="provider: error 503",
                          source="provider", hits=5))  # fmt: skip
    run.add(RunFinished(t=START + end + 0.5, status="completed"))
    return run
