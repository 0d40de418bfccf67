"""Deterministic apps for the snapshot suite: every source of change pinned.

- The live screen watches a real (never executed) `LabRun` whose `snapshot()` is a fixed
  synthetic run fed through the real `Aggregator` (18 s into a 45 s outage scenario, a
  fault applied by hand, a check decided live), so no wall clock reaches the screen.
- The scorecard renders a committed report document (tests/tui/data/scorecard-report.json,
  written by a real blip run) with no paths in it.
- The picker reads the bundled scenarios and demo targets only; the lesson is bundled.
- The suite screen watches a real (never executed) `SuiteRun` of tests/tui/data/
  tiny.suite.yaml whose `snapshot()` is fixed (one done, one running, one waiting), fed
  the events of its first minute; the folder is relative to a tmp working directory.
- The merged scorecard renders a committed suite report (tests/tui/data/
  suite-report.json, written by a real run of two blip scenarios, paths removed).
- Animations are off and inputs do not blink.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.app import App

import gaplab.tui.app
from gaplab.engine.events import (
    CheckEvaluated,
    Event,
    FaultChanged,
    LabHealth,
    LogMessage,
    ManualFault,
    PhaseEnded,
    PhaseStarted,
    ProviderCallRecorded,
    RunStarted,
    UserRequestFinished,
)
from gaplab.engine.run import LabRun, RunOptions
from gaplab.metrics.aggregator import Aggregator
from gaplab.provider.journal import ProviderCall
from gaplab.scenario.models import Scenario
from gaplab.suite.loading import load_suite
from gaplab.suite.runner import SuiteEvent, SuiteProgress, SuiteRun
from gaplab.target.resolve import resolve_target
from gaplab.tui.app import GaplabApp
from gaplab.tui.catalog import default_catalog
from gaplab.tui.screens.lessons import LessonScreen
from gaplab.tui.screens.live import LiveRunScreen
from gaplab.tui.screens.scorecard import ScorecardScreen, ScoredRun
from gaplab.tui.screens.suite import SuiteScreen
from gaplab.tui.screens.suite_scorecard import SuiteScorecardScreen, suite_scored
from gaplab.workshop.library import load_lessons

DATA = Path(__file__).parent / "data"
NOW = 19.5  # run clock; phase 1 started at 1.0, so 18.5 s into the timeline
OUTAGE = ("provider: error 503",)

SCENARIO = Scenario.model_validate(
    {
        "name": "outage",
        "title": "The provider returns 503 for fifteen seconds",
        "target": "demo:naive",
        "seed": 7,
        "sla": "10s",
        "load": {"users": 20, "think": "200ms", "patience": "30s"},
        "phases": [
            {"name": "baseline", "for": "10s"},
            {"name": "outage", "for": "15s", "faults": [{"provider": {"error": 503}}]},
            {"name": "recovery", "for": "20s"},
        ],
        "checks": ["resilience.fallback", "resilience.contained", "resilience.recovery"],
    }
)


def _call(n: int, t: float, status: int, retry: int) -> ProviderCallRecorded:
    call = ProviderCall(
        call_id=f"call-{n}",
        dialect="openai",
        path="/v1/chat/completions",
        t_arrival=t,
        t_first_byte=t + 0.2,
        t_end=t + (0.6 if status == 200 else 0.01),
        status=status,
        outcome="completed" if status == 200 else "error",
        cost_usd=0.00004 if status == 200 else 0.0,
        retry_count=retry,
        read_timeout=600.0,
    )
    return ProviderCallRecorded(t=call.t_end, call=call)


def _request(n: int, t: float, phase: str, outcome: str, latency: float) -> UserRequestFinished:
    status = {"ok": 200, "error": 500, "unsafe": 500}[outcome]
    detail = "provider_error" if outcome == "unsafe" else ""
    return UserRequestFinished(
        t + latency, f"user-{n % 20:04d}-{n:04d}", "u", phase, t, latency, outcome, status, detail
    )


def live_events() -> list[Event]:
    events: list[Event] = [
        RunStarted(
            0.0,
            "snapshot-run",
            "outage",
            SCENARIO.title,
            "demo:naive",
            7,
            10.0,
            (("baseline", 10.0), ("outage", 15.0), ("recovery", 20.0)),
            "",
            "",
        ),
        PhaseStarted(1.0, "baseline", 0, 10.0, (), False, 0.0),
    ]
    n = 0
    for tenth in range(10, 110):  # baseline: 10 answers a second, 0.6-0.9 s
        t = tenth / 10
        events.append(_call(n, t, 200, 0))
        events.append(_request(n, t, "baseline", "ok", 0.6 + (tenth % 4) * 0.1))
        n += 1
    events += [
        PhaseEnded(11.0, "baseline", 0),
        PhaseStarted(11.0, "outage", 1, 15.0, OUTAGE, True, 0.0),
        FaultChanged(11.0, "outage", OUTAGE),
    ]
    for tenth in range(110, 190):  # outage: every request is 3 calls (2 retries), an error
        t = tenth / 10
        for retry in range(3):
            events.append(_call(n * 3 + retry, t + retry * 0.05, 503, retry))
        events.append(_request(n, t, "outage", "unsafe" if tenth % 2 else "error", 0.2))
        n += 1
        if tenth == 120:
            events.append(
                CheckEvaluated(
                    12.0,
                    "resilience.contained",
                    "pass",
                    "non-AI endpoints kept status 200",
                    final=False,
                )
            )
        if tenth == 140:
            events.append(
                ManualFault(
                    14.0,
                    "apply",
                    "latency",
                    "provider: latency 3s",
                    "provider",
                    "outage",
                    {"provider": {"latency": 3.0}},
                )
            )
        if tenth == 160:
            events.append(
                ManualFault(16.0, "clear", "latency", "provider: latency 3s", "provider", "outage")
            )
    events.append(LogMessage(17.0, "info", "target: provider error 503, passed on to the user"))
    events.append(
        LabHealth(
            19.0,
            load_model="closed",
            window=5.0,
            window_lag_p50=0.001,
            window_lag_p99=0.004,
            window_slip_p50=None,
            window_slip_p99=None,
            run_lag_p50=0.001,
            run_lag_p99=0.005,
            run_lag_max=0.008,
            run_slip_p50=None,
            run_slip_p99=None,
            run_slip_max=None,
            in_flight=20,
        )
    )
    return events


def synthetic_aggregator() -> Aggregator:
    aggregator = Aggregator()
    for event in live_events():
        aggregator(event)
    aggregator.note_in_flight(NOW, users=20, oldest_s=0.4, upstream=2)
    aggregator.now = NOW
    return aggregator


def watched_run(runs_dir: Path) -> LabRun:
    """A real LabRun that is never executed; its snapshot is the synthetic run's."""
    target = resolve_target("demo:naive", relative_to=DATA, interface=SCENARIO.interface)
    run = LabRun(
        RunOptions(
            scenario=SCENARIO, target=target, target_label="demo:naive", seed=7, runs_dir=runs_dir
        )
    )
    aggregator = synthetic_aggregator()
    frozen = aggregator.snapshot()
    run.snapshot = lambda: frozen  # type: ignore[method-assign]
    return run


class Pinned(GaplabApp):
    """The app with its animations off (and its own stylesheet: CSS_PATH is relative to
    the class's module)."""

    CSS_PATH = str(Path(gaplab.tui.app.__file__).parent / "app.tcss")

    def on_mount(self) -> None:
        self.animation_level = "none"
        super().on_mount()


class LiveApp(Pinned):
    def __init__(self, runs_dir: Path) -> None:
        super().__init__(catalog=None)
        self.watched = watched_run(runs_dir)

    def on_mount(self) -> None:
        super().on_mount()
        screen = LiveRunScreen(self.watched)
        for event in live_events():  # what the event log shows
            screen.feed(event)
        self.push_screen(screen)


def scorecard_report() -> dict[str, Any]:
    report: dict[str, Any] = json.loads((DATA / "scorecard-report.json").read_text())
    return report


class ScorecardApp(Pinned):
    def on_mount(self) -> None:
        super().on_mount()
        self.push_screen(ScorecardScreen(ScoredRun(scorecard_report())))


class LessonApp(Pinned):
    def on_mount(self) -> None:
        super().on_mount()
        self.push_screen(LessonScreen(load_lessons()[0]))


def picker_app(runs_dir: Path) -> App[int]:
    return Pinned(catalog=default_catalog(runs_dir))


SUITE_PROGRESS = SuiteProgress(  # 30 s in: stall done, long running, blip waiting
    total=3,
    done=("stall",),
    running=(("long", 29.8, 94.0),),
    left=1,
    elapsed_s=30.1,
    eta_s=35.9,
)
SUITE_EVENTS = (
    SuiteEvent("started", "long", 0.2),
    SuiteEvent("started", "stall", 0.3),
    SuiteEvent("finished", "stall", 18.9, 1),
)
SUITE_FOLDER = Path("runs") / "20261202-040000-tiny"


class PinnedSuiteRun(SuiteRun):
    """A suite that never runs: its snapshot is `SUITE_PROGRESS`."""

    def snapshot(self) -> SuiteProgress:
        return SUITE_PROGRESS


def suite_report() -> dict[str, Any]:
    report: dict[str, Any] = json.loads((DATA / "suite-report.json").read_text())
    return report


class SuiteApp(Pinned):
    """The suite screen 30 s in. Run it from a tmp working directory: the suite folder,
    with stall's report (tests/tui/data/stall-report.json, a real run's) in it, is
    relative to it."""

    def __init__(self) -> None:
        super().__init__(catalog=None)
        self.watched = PinnedSuiteRun(load_suite(DATA / "tiny.suite.yaml"), Path("runs"))
        self.watched.run_dir = SUITE_FOLDER
        SUITE_FOLDER.mkdir(parents=True, exist_ok=True)
        report = (DATA / "stall-report.json").read_text()
        (SUITE_FOLDER / "stall.report.json").write_text(report)

    def on_mount(self) -> None:
        super().on_mount()
        screen = SuiteScreen(self.watched)
        screen.events.extend(SUITE_EVENTS)
        self.push_screen(screen)


class SuiteScorecardApp(Pinned):
    def on_mount(self) -> None:
        super().on_mount()
        scored = suite_scored(suite_report(), None, Path("runs") / "suite")
        self.push_screen(SuiteScorecardScreen(scored))
