"""A small index of an HTML page for the report tests (the standard library's parser):
elements by attribute, with their text content."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "wbr", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)


class HTMLIndex(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        if self._open:
            self._open[-1].children.append(element)
        self.elements.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def having(self, attr: str, value: str | None = None) -> list[Element]:
        found = [e for e in self.elements if attr in e.attrs]
        return [e for e in found if value is None or e.attrs[attr] == value]

    def one(self, attr: str, value: str | None = None) -> Element:
        (found,) = self.having(attr, value)
        return found
