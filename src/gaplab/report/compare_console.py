"""`lab compare` on the console: both headlines, the items that changed, the figures."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from gaplab.report import figures

_STYLE = {"better": "green", "worse": "bold red", "new": "cyan", "removed": "dim"}


def _verdict(value: str | None) -> str:
    return "-" if value is None else figures.VERDICT_LABEL.get(value, value)


def compare_renderable(comparison: dict[str, Any]) -> Group:
    a, b = comparison["a"], comparison["b"]
    lines: list[Any] = []
    for tag, side in (("A", a), ("B", b)):
        report = side["report"]
        lines.append(
            Text(
                f"{tag}: {report['run_id']} ({report['scenario']['name']} against "
                f"{report['target']}): {side['headline']}",
                style="bold green" if report["verdict"]["ready"] else "bold red",
            )
        )
    items = Table(title="items that changed", title_justify="left")
    for column in ("item", "A", "B", "change", "evidence (A → B)"):
        items.add_column(column)
    for row in comparison["changed"]:
        numbers = "; ".join(f"{name}: {va} → {vb}" for name, va, vb in row["numbers"])
        items.add_row(
            row["id"] + (" ★" if row["critical"] else ""),
            _verdict(row["a"]),
            _verdict(row["b"]),
            Text(row["change"], style=_STYLE.get(row["change"], "")),
            Text(numbers or row["summary_b"] or row["summary_a"]),
        )
    if comparison["changed"]:
        lines.append(items)
    else:
        lines.append(Text("no verdict changed", style="dim"))
    table = Table(title="figures (B against A)", title_justify="left")
    for column in ("figure", "scope", "A", "B", "delta", ""):
        table.add_column(column)
    for figure in comparison["figures"]:
        direction = figure.direction
        table.add_row(
            figure.name,
            figure.scope,
            figure.text(figure.a),
            figure.text(figure.b),
            figure.delta_text(),
            Text("" if direction == "same" else direction, style=_STYLE.get(direction, "")),
        )
    lines.append(table)
    return Group(*lines)
