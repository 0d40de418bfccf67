"""`lab proxy serve` as its own process: prints its API address, serves, stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

from gaplab.netfault import ToxiproxyClient

SERVE = [sys.executable, "-m", "gaplab", "proxy", "serve", "--port", "0", "--json"]


def test_serve_with_config_answers_and_stops_cleanly(tmp_path: Path) -> None:
    upstream = socket.create_server(("127.0.0.1", 0))
    config = tmp_path / "toxiproxy.json"
    config.write_text(
        json.dumps([{"name": "db", "upstream": f"127.0.0.1:{upstream.getsockname()[1]}"}])
    )
    process = subprocess.Popen(
        [*SERVE, "--seed", "5", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
        assert started["seed"] == 5
        client = ToxiproxyClient(started["api_url"])
        assert client.version()
        proxy = client.get_proxy("db")
        assert proxy.enabled
        with socket.create_connection(proxy.listen_address, timeout=5):
            accepted, _ = upstream.accept()  # the proxy dialled the configured upstream
            accepted.close()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
        upstream.close()
    assert code == 0


def test_serve_on_a_busy_port_is_a_lab_error() -> None:
    busy = socket.create_server(("127.0.0.1", 0))
    try:
        port = str(busy.getsockname()[1])
        result = subprocess.run(
            [*SERVE[:5], "--port", port], capture_output=True, text=True, timeout=60
        )
    finally:
        busy.close()
    assert result.returncode == 3  # ExitCode.LAB_ERROR
    assert f"cannot start the embedded Toxiproxy API on 127.0.0.1:{port}" in result.stderr
