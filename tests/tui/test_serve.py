"""`lab serve`: the TUI in a browser through textual-serve, on loopback by default. The
real server is started as `lab` would be and asked for its page; a public address is
refused unless `--allow-remote` says so."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from click.testing import CliRunner

from gaplab.cli import main
from gaplab.tui.serve import serve_command_line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_lab_serve_answers_a_browser_on_loopback() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gaplab", "serve", "--port", str(port), "workshop"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 30
        page = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    page = response.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert "gaplab" in page and "<html" in page.lower(), page[:300]
        # The page opens a websocket that runs the lab command of this Python.
        assert "ws" in page
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert f"serving `{serve_command_line(('workshop',))}` on http://127.0.0.1:{port}" in output


def test_a_public_address_needs_allow_remote() -> None:
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 2
    assert "not a loopback address: add --allow-remote" in result.output
