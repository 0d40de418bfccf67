"""Two runs side by side (report/compare.py's data): each headline, every check whose
verdict changed with the evidence numbers that differ, and the deciding figures."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from gaplab.report.figures import VERDICT_LABEL

CHANGE_STYLE = {"better": "green", "worse": "bold red", "changed": "yellow", "new": "cyan"}


def comparison_renderable(comparison: dict[str, Any], label_a: str, label_b: str) -> RenderableType:
    a, b = comparison["a"], comparison["b"]
    parts: list[RenderableType] = [
        Text(f"A  {label_a}", style="bold"),
        Text(f"   {a['headline']}"),
        Text(f"B  {label_b}", style="bold"),
        Text(f"   {b['headline']}"),
        Text(""),
    ]
    changed = Table(box=None, expand=True, padding=(0, 1), header_style="bold")
    for name, ratio in (("check", None), ("A", None), ("B", None), ("change", None), ("why", 1)):
        changed.add_column(name, overflow="fold", ratio=ratio)
    for row in comparison["changed"]:
        why = "; ".join(f"{label}: {va} → {vb}" for label, va, vb in row["numbers"])
        changed.add_row(
            row["id"],
            VERDICT_LABEL.get(row["a"] or "", "-"),
            VERDICT_LABEL.get(row["b"] or "", "-"),
            Text(row["change"], style=CHANGE_STYLE.get(row["change"], "")),
            why or row["summary_b"],
        )
    count = len(comparison["changed"])
    parts += [
        Text(f"{count} checks changed, {len(comparison['unchanged'])} the same", style="bold")
    ]
    if count:
        parts.append(changed)
    figures_table = Table(box=None, expand=True, padding=(0, 1), header_style="bold")
    for name in ("figure", "scope", "A", "B", "change"):
        figures_table.add_column(name, overflow="fold")
    for figure in comparison["figures"]:
        direction = figure.direction
        figures_table.add_row(
            figure.name,
            figure.scope,
            figure.text(figure.a),
            figure.text(figure.b),
            Text(f"{figure.delta_text()} {direction}", style=CHANGE_STYLE.get(direction, "dim")),
        )
    parts += [Text(""), Text("figures", style="bold"), figures_table]
    return Group(*parts)


class CompareScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="compare.back", tooltip="Back"),
    ]

    def __init__(self, comparison: dict[str, Any], label_a: str, label_b: str) -> None:
        super().__init__()
        self.comparison = comparison
        self.labels = (label_a, label_b)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with VerticalScroll(id="compare-body", can_focus=True):
            yield Static(comparison_renderable(self.comparison, *self.labels), id="compare-view")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "gaplab · compare"
        self.sub_title = f"{self.labels[0]} → {self.labels[1]}"
        self.query_one("#compare-body").focus()
