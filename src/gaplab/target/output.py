"""Where a started target's output goes: `target.log`, capped, and the last lines kept for
the error message when the target does not start.

The log keeps the first `HEAD_BYTES` and the last `TAIL_BYTES` of the output (whole lines
where the output has line breaks), with one line between them saying how much was cut:
`... 123,456,789 bytes cut (target.log keeps the first 1 MiB and the last 4 MiB) ...`.
Written as it comes, so a lab that dies leaves a log that is whole up to its last write:
while the target runs, up to two tails are on disk (9 MiB at most); every time that limit
is reached, and when the log is closed, the second is rewritten to the last `TAIL_BYTES`.
Written by hand: the logging module's rotating handlers drop the head, not the middle.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import BinaryIO

from gaplab.engine.secrets import private_opener

HEAD_BYTES = 1024 * 1024
TAIL_BYTES = 4 * 1024 * 1024
TAIL_LINES = 20  # lines shown when the target does not start
MAX_LINE = 2000  # characters of one line shown in an error message


class CappedLog:
    """An append-only log file that keeps its head and its tail; created 0o600."""

    def __init__(
        self, path: Path, head_bytes: int = HEAD_BYTES, tail_bytes: int = TAIL_BYTES
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.head_bytes = head_bytes
        self.tail_bytes = tail_bytes
        self._file: BinaryIO | None = open(path, "ab", opener=private_opener)  # noqa: SIM115
        self._head_left = max(0, head_bytes - self._file.tell())
        self._head_end: int | None = None  # set once the head is full
        self._head_newline = True
        self._tail = bytearray()  # the last `tail_bytes` (or a little more) written
        self._tail_starts_line = True  # the byte before `_tail` was a line break
        self._tail_on_disk = 0  # bytes after the head (and the cut line) on disk
        self.cut = 0  # bytes dropped between the head and the tail

    def write(self, data: bytes) -> None:
        file = self._file
        if file is None or not data:
            return
        if self._head_end is None:
            if len(data) <= self._head_left:
                file.write(data)
                self._head_left -= len(data)
                file.flush()
                return
            head = data[: self._head_left]
            if b"\n" in head:  # end the head on a whole line
                head = head[: head.rindex(b"\n") + 1]
            file.write(head)
            self._head_end = file.tell()
            self._head_newline = not head or head.endswith(b"\n")
            data = data[len(head) :]
        file.write(data)
        file.flush()
        self._tail_on_disk += len(data)
        self._tail += data
        if len(self._tail) > self.tail_bytes:
            excess = len(self._tail) - self.tail_bytes
            self._tail_starts_line = self._tail[excess - 1] == ord("\n")
            del self._tail[:excess]
            self.cut += excess
        if self._tail_on_disk > 2 * self.tail_bytes:
            self._compact()

    def _compact(self) -> None:
        """Rewrite what follows the head as the cut line and the kept tail."""
        file = self._file
        assert file is not None and self._head_end is not None
        newline = self._tail.find(b"\n")
        if not self._tail_starts_line and 0 <= newline < len(self._tail) - 1:
            del self._tail[: newline + 1]  # start the tail on a whole line
            self.cut += newline + 1
            self._tail_starts_line = True
        file.truncate(self._head_end)  # appending: the next write lands at the new end
        file.write(self.cut_line())
        file.write(self._tail)
        file.flush()
        self._tail_on_disk = len(self._tail)

    def cut_line(self) -> bytes:
        lead = b"" if self._head_newline else b"\n"
        return (
            lead
            + (
                f"... {self.cut:,} bytes cut (target.log keeps the first {_size(self.head_bytes)} "
                f"and the last {_size(self.tail_bytes)}) ...\n"
            ).encode()
        )

    def close(self) -> None:
        if self._file is None:
            return
        if self._head_end is not None and self._tail_on_disk > len(self._tail):
            self._compact()
        self._file.close()
        self._file = None


class TailLines:
    """The last `TAIL_LINES` lines of a byte stream, decoded, each cut to `MAX_LINE`."""

    def __init__(self, count: int = TAIL_LINES) -> None:
        self.lines: deque[str] = deque(maxlen=count)
        self._partial = bytearray()

    def feed(self, data: bytes) -> None:
        *complete, rest = data.split(b"\n")
        for piece in complete:
            self._partial += piece[: 4 * MAX_LINE]
            self._push()
        self._partial += rest[: 4 * MAX_LINE]
        del self._partial[4 * MAX_LINE :]

    def finish(self) -> None:
        if self._partial:
            self._push()

    def _push(self) -> None:
        text = self._partial.decode("utf-8", errors="replace").rstrip()
        self._partial.clear()
        if len(text) > MAX_LINE:
            text = text[:MAX_LINE] + " [...]"
        self.lines.append(text)


def _size(count: int) -> str:
    if count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MiB"
    return f"{count:,} bytes"
