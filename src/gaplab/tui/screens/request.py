"""One example request of a check, drilled down: what the user sent and got, and the
provider calls it caused (status, timing, retries, messages). `left`/`right` go through
the check's other examples; `escape` goes back to the scorecard."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from gaplab.engine.record import RunRecord
from gaplab.tui.drilldown import request_view


class RequestScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "app.pop_screen", "Back", id="request.back", tooltip="Back to the scorecard"
        ),
        Binding(
            "right",
            "step(1)",
            "Next",
            id="request.next",
            tooltip="The check's next example request",
        ),
        Binding(
            "left",
            "step(-1)",
            "Previous",
            id="request.previous",
            tooltip="The previous example request",
        ),
    ]

    def __init__(
        self, check: dict[str, Any], examples: list[dict[str, Any]], record: RunRecord | None
    ) -> None:
        super().__init__()
        self.check = check
        self.examples = examples
        self.record = record
        self.index = 0

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with VerticalScroll(id="request-body", can_focus=True):
            yield Static("", id="request-view")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "gaplab · example request"
        self._show()
        self.query_one("#request-body").focus()

    def _show(self) -> None:
        example = self.examples[self.index]
        self.sub_title = (
            f"{self.check.get('id', '')} · example {self.index + 1} of {len(self.examples)}"
        )
        body = self.query_one("#request-body", VerticalScroll)
        body.border_title = example["request_id"]
        self.query_one("#request-view", Static).update(request_view(example, self.record))
        body.scroll_home(animate=False)

    def action_step(self, delta: int) -> None:
        self.index = (self.index + delta) % len(self.examples)
        self._show()
