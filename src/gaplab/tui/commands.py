"""Command-palette entries (ctrl+p): run any scenario against any target, stop the run,
apply or clear a fault by hand, open past runs, the workshop, the keys. Only the commands
that make sense right now are offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from gaplab.engine.manual import PRESETS
from gaplab.tui.catalog import SUITE_PREFIX
from gaplab.tui.screens.home import target_prompt

if TYPE_CHECKING:
    from gaplab.tui.app import GaplabApp


def chaos_commands(app: GaplabApp) -> Iterable[SystemCommand]:
    run = app.current_run
    if run is None:
        return
    on = set(run.manual_faults)
    for name, preset in PRESETS.items():
        verb = "Clear" if name in on else "Apply"
        yield SystemCommand(
            f"Chaos: {verb.lower()} {preset.title}",
            f"{verb} by hand, now: {preset.describe()}",
            partial(app.toggle_manual, name),
        )
    if on:
        yield SystemCommand(
            "Chaos: clear every fault applied by hand", "Back to the plan", app.clear_manual
        )


def lab_commands(app: GaplabApp) -> Iterable[SystemCommand]:
    yield SystemCommand("Keys", "Every key of this screen", app.action_help)
    if app.run_active:
        yield SystemCommand(
            "Stop the run",
            "Shut every part down and show the partial scorecard",
            app.action_stop_run,
        )
        yield from chaos_commands(app)
        return
    yield SystemCommand(
        "Past runs", "Open or compare the runs of the runs folder", app.action_open_runs
    )
    yield SystemCommand("Workshop", "The lessons: one failure story each", app.action_workshop)
    catalog = app.catalog
    if catalog is None:
        return
    if app.finished is not None:
        yield SystemCommand("New run", "Back to the picker", app.action_new_run)
    for scenario in catalog.choices():
        for target in catalog.targets:
            yield SystemCommand(
                f"Run {scenario} against {target_prompt(target)}",
                f"Start the {scenario.removeprefix(SUITE_PREFIX)} "
                + ("suite" if scenario.startswith(SUITE_PREFIX) else "scenario")
                + " now",
                partial(app.run_from_catalog, scenario, target),
            )
