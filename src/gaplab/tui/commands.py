"""Command-palette entries (ctrl+p): run any scenario against any target, stop the run,
go back to the picker. Only the commands that make sense right now are offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from gaplab.tui.screens.home import target_prompt

if TYPE_CHECKING:
    from gaplab.tui.app import GaplabApp


def lab_commands(app: GaplabApp) -> Iterable[SystemCommand]:
    if app.run_active:
        yield SystemCommand(
            "Stop the run",
            "Shut every part down and show the partial scorecard",
            app.action_stop_run,
        )
        return
    catalog = app.catalog
    if catalog is None:
        return
    if app.finished is not None:
        yield SystemCommand("New run", "Back to the picker", app.action_new_run)
    for scenario in catalog.scenarios:
        for target in catalog.targets:
            yield SystemCommand(
                f"Run {scenario} against {target_prompt(target)}",
                f"Start the {scenario} scenario now",
                partial(app.run_from_catalog, scenario, target),
            )
