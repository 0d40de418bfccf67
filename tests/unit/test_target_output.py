"""The capped target log and the tail lines, with small limits: what is kept, what the cut
line says, how big the file gets while the target is still writing."""

from __future__ import annotations

import re
from pathlib import Path

from gaplab.target.output import MAX_LINE, CappedLog, TailLines


def _lines(start: int, count: int) -> bytes:
    return b"".join(b"%08d\n" % n for n in range(start, start + count))  # 9 bytes each


def test_output_below_the_head_is_kept_whole(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "t.log", head_bytes=100, tail_bytes=200)
    log.write(_lines(0, 11))
    log.close()
    assert (tmp_path / "t.log").read_bytes() == _lines(0, 11)
    assert (tmp_path / "t.log").stat().st_mode & 0o777 == 0o600


def test_head_and_tail_are_kept_on_whole_lines_and_the_cut_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    log = CappedLog(path, head_bytes=100, tail_bytes=200)
    sizes = []
    for n in range(0, 1000, 7):  # 9,000 bytes in writes that split lines nowhere special
        log.write(_lines(n, 7)[: 9 * min(7, 1000 - n)])
        sizes.append(path.stat().st_size)
    log.close()
    text = path.read_bytes()
    kept = re.fullmatch(rb"(?s)(.*?)\.\.\. ([\d,]+) bytes cut \(.*?\) \.\.\.\n(.*)", text)
    assert kept is not None, text
    head, cut, tail = kept[1], int(kept[2].replace(b",", b"")), kept[3]
    assert head == _lines(0, 11)  # 99 bytes: the whole lines that fit in 100
    assert tail == _lines(1000 - 22, 22)  # 198 bytes: the whole lines that fit in 200
    assert len(head) + cut + len(tail) == 9000
    # While writing, the file never held more than the head, the cut line and two tails.
    cut_line = len(text) - len(head) - len(tail)
    assert max(sizes) <= 100 + cut_line + 2 * 200 + 63


def test_a_head_without_line_breaks_is_cut_at_its_size(tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    log = CappedLog(path, head_bytes=50, tail_bytes=50)
    log.write(b"x" * 500)
    log.close()
    text = path.read_bytes()
    assert text.startswith(b"x" * 50 + b"\n... 400 bytes cut (target.log keeps the first 50 ")
    assert text.endswith(b" ...\n" + b"x" * 50)


def test_megabyte_limits_are_spelled_in_mib(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "t.log")
    log.write(b"a\n" * (3 * 1024 * 1024))  # 6 MiB
    log.close()
    text = (tmp_path / "t.log").read_bytes()
    assert (
        b"\n... 1,048,576 bytes cut (target.log keeps the first 1 MiB and the last 4 MiB) ...\n"
        in text
    )


def test_tail_lines_are_whole_decoded_and_bounded() -> None:
    tail = TailLines(count=3)
    tail.feed(b"one\ntw")
    tail.feed(b"o\nthree\nfour\xff\n" + b"z" * (10 * MAX_LINE))
    tail.finish()
    assert list(tail.lines)[:2] == ["three", "four\ufffd"]
    assert tail.lines[-1] == "z" * MAX_LINE + " [...]"
