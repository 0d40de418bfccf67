"""Defect 8: what the TUI says reads as English with units, on real report documents
(the blip run's report, then the same document as a stopped, a failed and an undecided
run would have it)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from gaplab.engine.manual import PRESETS
from gaplab.report.model import verdict_headline
from gaplab.scenario.library import bundled_scenarios
from gaplab.tui.app import GaplabApp
from gaplab.tui.catalog import SCENARIO_TARGET, Catalog
from gaplab.tui.screens.scorecard import ScorecardScreen, ScoredRun, notes_of
from gaplab.tui.widgets.eventfeed import EventFeed

from .conftest import SIZE, wait_for

BAD = re.compile(r"\ba \d|score n/a \(|was failed|=\d{3,}|fell only from")


@pytest.fixture(scope="module")
def blip_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import asyncio
    import shutil

    from .conftest import DATA

    folder = tmp_path_factory.mktemp("wording")
    shutil.copytree(DATA, folder / "data")
    catalog = Catalog(
        scenarios={"blip": folder / "data" / "blip.yaml"},
        targets=(SCENARIO_TARGET,),
        runs_dir=folder / "runs",
    )

    async def run() -> dict[str, Any]:
        app = GaplabApp(run=catalog.build_run("blip"))
        app.final_pause = 0.1
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen), "scorecard")
            await pilot.press("q")
        assert app.finished is not None
        return app.finished.report

    return asyncio.run(run())


def test_the_headlines_read_as_sentences(blip_report: dict[str, Any]) -> None:
    assert not BAD.search(blip_report["verdict"]["headline"])
    undecided = copy.deepcopy(blip_report)
    undecided["verdict"].update(score=None, missed_faults=[], complete=True)
    undecided["verdict"]["counts"] = {"not_run": 2}
    text = verdict_headline(undecided)
    assert text == "NO VERDICT  none of the 2 checks could be decided (see their reasons)"
    stopped = copy.deepcopy(blip_report)
    stopped["verdict"].update(complete=False, stopped="the run failed 1.2 s into its timeline")
    stopped["verdict"]["counts"] = {"not_run": 2}
    assert verdict_headline(stopped).startswith(
        "INCOMPLETE  the run failed 1.2 s into its timeline: 2 of 2 checks could not be decided"
    )


def test_notes_say_the_run_failed_not_was_failed(blip_report: dict[str, Any]) -> None:
    failed = copy.deepcopy(blip_report)
    failed.update(status="failed", partial=True, error="the target exited with code 4")
    failed["verdict"]["stopped"] = None
    notes = notes_of(ScoredRun(failed))
    assert "lab error: the target exited with code 4" in notes
    assert "partial report: the run failed" in notes
    assert not any(BAD.search(n) for n in notes)


def test_fault_labels_carry_their_units() -> None:
    assert PRESETS["latency"].describe() == "provider: latency 3s"
    assert PRESETS["rate_limit"].describe() == "provider: error 429, retry-after 2s"
    catalog = Catalog(scenarios=bundled_scenarios(), targets=(SCENARIO_TARGET,))
    for name in catalog.scenarios:
        details = catalog.details(name)
        assert not isinstance(details, str), details
        for phase in details.phases:
            for fault in phase.faults:
                assert not re.search(r"(latency|after|for)[ =]\d+(\.\d+)?($|[,;)])", fault), (
                    name,
                    fault,
                )
    feed = EventFeed()
    from gaplab.engine.events import ManualFault

    feed(ManualFault(3.0, "apply", "latency", PRESETS["latency"].describe(), "provider", "p"))
    assert feed.drain() == ["[   3.0s] by hand: provider: latency 3s on"]
