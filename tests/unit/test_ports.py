"""The lab picks ports for the processes it starts below the kernel's ephemeral range, so an
outgoing connection cannot take one between the pick and the bind."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gaplab.target import ports
from gaplab.target.ports import LOWEST, ephemeral_range, free_port


def test_ports_come_from_below_the_ephemeral_range_and_are_bindable() -> None:
    span = ephemeral_range()
    assert span is not None  # Linux: the kernel says
    picked = {free_port() for _ in range(40)}
    assert all(LOWEST <= port < span[0] for port in picked), sorted(picked)
    assert len(picked) > 30  # random, not the same few ports for every lab
    for port in list(picked)[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_in_use_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        # The picker's random draws: the busy port first, then the ones after it (another
        # test may hold one of those too).
        draws = iter(range(busy - LOWEST, busy - LOWEST + 40))
        monkeypatch.setattr(ports.secrets, "randbelow", lambda n: next(draws))
        fake = tmp_path / "range"
        fake.write_text(f"{busy + 100}\t60999\n")
        port = free_port(path=fake)
        assert busy < port < busy + 40


def test_without_a_readable_range_the_kernel_chooses(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-file"
    assert ephemeral_range(missing) is None
    port = free_port(path=missing)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    garbage = tmp_path / "garbage"
    garbage.write_text("not numbers")
    assert ephemeral_range(garbage) is None
