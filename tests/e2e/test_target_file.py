"""A user-defined target file, end to end: the lab starts the service from `start.command`
with `{port}` and `{provider.openai_base_url}` filled in, drives it through the request
template, reads the answer and the degraded signal where the file says."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gaplab.checks.base import Verdict

from .conftest import run_lab, short_scenario, verdicts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

TARGET = f"""\
version: 1
name: my-support-bot
start:
  command: {sys.executable} -m gaplab.demo hardened --port {{port}} --break 2s
  env: {{OPENAI_BASE_URL: "{{provider.openai_base_url}}", OPENAI_API_KEY: lab}}
  ready: {{http: GET /health, within: 20s}}
request:
  method: POST
  url: "http://127.0.0.1:{{port}}/chat"
  json: {{message: "{{input}}", user_id: "{{user}}"}}
response:
  answer: $.answer
  degraded: {{field: $.degraded}}
non_ai_endpoints: ["GET /notes/1", "GET /health"]
sla: 4s
"""


async def test_user_target_file_runs_end_to_end(tmp_path: Path) -> None:
    target = tmp_path / "bot.yaml"
    target.write_text(TARGET)
    path = short_scenario(
        tmp_path, "outage", "provider: {error: 503}", "[resilience.fallback, resilience.contained]"
    )
    run, result = await run_lab(path, str(target), tmp_path / "runs")
    assert run.sla == 4.0  # the target file's SLA wins over the scenario's
    assert verdicts(result) == {
        "resilience.fallback": Verdict.PASS,
        "resilience.contained": Verdict.PASS,
    }
    outage = result.record.phase("fault")
    assert outage is not None
    outcomes = {r.outcome for r in result.record.requests_in(outage, after=1.0)}
    assert outcomes == {"degraded"}
    endpoints = {p.endpoint for p in result.record.probes}
    assert endpoints == {"GET /notes/1", "GET /health"}
    # The hardened demo forwards the lab's request id: provider calls are correlated.
    correlated = [c for c in result.record.calls if c.correlation.get("x-request-id")]
    assert correlated and correlated[0].correlation["x-request-id"].startswith("user-")
