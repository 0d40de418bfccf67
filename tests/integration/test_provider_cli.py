"""`lab provider serve` as its own process: prints its addresses, serves, stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import openai

SERVE = [
    sys.executable,
    "-c",
    "from gaplab.provider.cli import provider_group; provider_group()",
    "serve",
    "--profile",
    "openai",
    "--port",
    "0",
    "--json",
]


def test_serve_prints_urls_answers_and_stops_cleanly() -> None:
    process = subprocess.Popen(SERVE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        addresses = json.loads(process.stdout.readline())
        assert addresses["openai_base_url"] == f"http://127.0.0.1:{addresses['port']}/v1"
        assert addresses["control_url"].endswith("/_lab")
        sdk = openai.OpenAI(base_url=addresses["openai_base_url"], api_key="k", max_retries=0)
        answer = sdk.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "What is a canary release?"}]
        )
        assert "canary" in (answer.choices[0].message.content or "")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    assert code == 0


def test_serve_rejects_an_unknown_profile() -> None:
    result = subprocess.run(
        [*SERVE[:4], "--profile", "nope"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2  # ExitCode.INVALID_INPUT
    assert "no such provider profile" in result.stderr
