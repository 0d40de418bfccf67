"""`?` / F1: every key of the screen underneath and of the app, with what it does."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

PALETTE_NOTE = "ctrl+p opens the command palette: every action here, and every run, by name."


def key_label(key: str) -> str:
    return {"question_mark": "?", "escape": "esc", "enter": "enter"}.get(key, key)


def keys_of(*owners: object) -> list[tuple[str, str, str]]:
    """(keys, name, what it does) for every binding with a tooltip, deduplicated by id."""
    seen: set[str] = set()
    rows = []
    for owner in owners:
        for binding in getattr(owner, "BINDINGS", []):
            if not isinstance(binding, Binding) or not binding.tooltip:
                continue
            ident = binding.id or binding.action
            if ident in seen:
                continue
            seen.add(ident)
            keys = ", ".join(key_label(k.strip()) for k in binding.key.split(","))
            rows.append((keys, binding.description, binding.tooltip))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,question_mark,f1,q",
            "close",
            "Close",
            id="help.close",
            tooltip="Close this list of keys",
        ),
    ]

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, padding=(0, 1), header_style="bold")
        table.add_column("key", no_wrap=True)
        table.add_column("does", no_wrap=True)
        table.add_column("what it does", overflow="fold", ratio=1)
        for keys, name, tooltip in keys_of(type(self.below), type(self.app)):
            table.add_row(keys, name, tooltip)
        with VerticalScroll(id="help-body"):
            yield Static(table, id="help-keys")
            yield Static(PALETTE_NOTE, id="help-note")

    def on_mount(self) -> None:
        self.query_one("#help-body").border_title = "keys (esc to close)"

    def action_close(self) -> None:
        self.dismiss(None)
