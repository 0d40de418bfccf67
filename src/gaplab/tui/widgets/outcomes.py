"""User-side outcome counters: ok / degraded / error / unsafe over the whole run, plus the
request rate. Each counter is a `Static` whose text is set only when its number changed.
Below 120x34 the boxes are hidden (app.tcss) and `#count-line` says the same on one line.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from gaplab.engine.events import OUTCOMES
from gaplab.metrics.snapshot import Snapshot


def counter_text(label: str, value: str) -> str:
    return f"{label}\n[b]{value}[/b]"


SHORT = {"degraded": "degr", "refused": "ref", "error": "err"}


def line_text(values: dict[str, str]) -> str:
    """`ok 279 · degr 0 · ref 0 · err 12 · unsafe 0 · 20.7 req/s` (the one-line form)."""
    parts = [f"{SHORT.get(o, o)} [b]{values[o]}[/b]" for o in OUTCOMES]
    return " · ".join([*parts, f"[b]{values['rate']}[/b] req/s"])


class OutcomeCounters(Horizontal):
    """Four outcome boxes (CSS classes `outcome-ok`, ...) and one `req/s` box."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        for outcome in OUTCOMES:
            yield Static(
                counter_text(outcome, "0"), id=f"count-{outcome}", classes=f"counter {outcome}"
            )
        yield Static(counter_text("req/s", "0.0"), id="count-rate", classes="counter rate")
        yield Static(line_text(dict.fromkeys((*OUTCOMES, "rate"), "0")), id="count-line")

    def show(self, snapshot: Snapshot) -> None:
        values = {o: f"{snapshot.totals.get(o, 0):,}" for o in OUTCOMES}
        values["rate"] = f"{snapshot.requests_per_second:.1f}"
        if values != self._shown:
            # layout=False: a fixed-size box; a layout pass per tick cost ~60 ms at 160x48.
            self.query_one("#count-line", Static).update(line_text(values), layout=False)
        for key, value in values.items():
            if self._shown.get(key) == value:
                continue
            self._shown[key] = value
            label = "req/s" if key == "rate" else key
            self.query_one(f"#count-{key}", Static).update(counter_text(label, value), layout=False)

    def value(self, key: str) -> str:
        """The number shown for `key` (an outcome or "rate"); tests read the screen this way."""
        return self._shown.get(key, "0")
