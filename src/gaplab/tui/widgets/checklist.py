"""The scenario's checks, one row each (keyed by check id), ticking as verdicts arrive.

Rows are created once from the scenario and then changed with `update_cell`, never by
clearing the table; a check decided by the engine shows its verdict at the next tick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from gaplab.metrics.snapshot import Snapshot

VERDICT_LABEL = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "not_run": "not run"}
VERDICT_WIDTH = 8
VERDICT_COLOUR = {"pass": "success", "fail": "error", "warn": "warning"}  # theme variables
PENDING = "…"


def verdict_text(verdict: str | None, theme: Mapping[str, str]) -> Text:
    """A verdict label in the theme's success/error/warning colour (not run: dim)."""
    if verdict is None:
        return Text(PENDING, style="dim")
    colour = theme.get(VERDICT_COLOUR.get(verdict, ""), "")
    style = f"bold {colour}" if colour else "dim"
    return Text(VERDICT_LABEL.get(verdict, verdict), style=style)


class CheckList(DataTable[Text | str]):
    def __init__(self, check_ids: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.check_ids = tuple(check_ids)
        self.verdicts: dict[str, str] = {}

    def on_mount(self) -> None:
        self.add_column("check", key="check")
        self.add_column("verdict", key="verdict", width=VERDICT_WIDTH)
        for check_id in self.check_ids:
            self.add_row(check_id, verdict_text(None, self.app.theme_variables), key=check_id)

    def on_resize(self, event: events.Resize) -> None:
        """The check column takes what the verdict leaves: the verdict is never cut."""
        column = self.columns.get("check")  # type: ignore[call-overload]
        if column is None:
            return
        column.auto_width = False
        column.width = max(8, event.size.width - VERDICT_WIDTH - 6)
        self.refresh()

    def show(self, snapshot: Snapshot) -> None:
        for check_id, verdict in snapshot.checks.items():
            if self.verdicts.get(check_id) == verdict:
                continue
            self.verdicts[check_id] = verdict
            cell = verdict_text(verdict, self.app.theme_variables)
            if check_id not in self.rows:
                self.add_row(check_id, cell, key=check_id)
            else:
                self.update_cell(check_id, "verdict", cell)
