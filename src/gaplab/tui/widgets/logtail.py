"""The tail of the target's log (`runs/<id>/target.log`), read a little at a time.

Each tick reads what was appended since the last one (at most `CHUNK` bytes, so a target
that logs a flood cannot stall the UI) and writes the complete lines to a `Log` with
`max_lines`; a file that does not exist yet (the target has not started, or the lab does
not start it) is simply not shown.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Log

CHUNK = 64 * 1024
MAX_LINES = 200


class LogTail(Log):
    def __init__(self, path: Path | None, *, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, id=id, auto_scroll=True)
        self.path = path
        self._offset = 0
        self._partial = ""

    def poll(self) -> int:
        """Read what the file gained; returns the number of lines written."""
        if self.path is None:
            return 0
        try:
            with self.path.open("rb") as file:
                file.seek(self._offset)
                chunk = file.read(CHUNK)
        except OSError:
            return 0
        if not chunk:
            return 0
        self._offset += len(chunk)
        text = self._partial + chunk.decode("utf-8", errors="replace")
        *lines, self._partial = text.split("\n")
        if lines:
            self.write_lines(lines)
        return len(lines)
