"""Rows of styled cells to Textual `Strip`s, merging neighbours of the same style.

The timeline and the charts draw through the Line API (`render_line`) with these: a Rich
`Text` with one span per cell cost ~20 ms per repaint to convert (a chart is a thousand
cells), a strip of a dozen merged segments costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip


def strip_of(cells: Iterable[tuple[str, Style]], width: int) -> Strip:
    """A strip of `cells` (text, style), cut or padded to `width` cells."""
    segments: list[Segment] = []
    text: list[str] = []
    current: Style | None = None
    for chars, style in cells:
        if style is not current and text:  # styles are shared objects: identity is enough
            segments.append(Segment("".join(text), current))
            text = []
        current = style
        text.append(chars)
    if text:
        segments.append(Segment("".join(text), current))
    return Strip(segments).adjust_cell_length(width)
