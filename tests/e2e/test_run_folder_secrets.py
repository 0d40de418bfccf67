"""A real `lab run` with a target file that plants secrets in its env and headers: no secret
reaches any file of the run folder, the names and the harmless values stay, and the folder
and its files are readable by their owner only."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

SECRETS = {
    "api_key": "sk-planted-3f9a8c1e5b7d",
    "password": "hunter2-planted-77",
    "bearer": "planted-bearer-0d1e2f",
    "cookie": "session=planted-cookie-4a5b",
    "probe_token": "planted-probe-9c8b",
}

TARGET = f"""\
name: secretive-bot
start:
  command: {sys.executable} -m gaplab.demo hardened --port {{port}}
  env:
    OPENAI_BASE_URL: "{{provider.openai_base_url}}"
    OPENAI_API_KEY: {SECRETS["api_key"]}
    db_password: {SECRETS["password"]}
    LOG_LEVEL: info
  ready:
    http: GET /health
    headers: {{Cookie: "{SECRETS["cookie"]}"}}
    within: 20s
request:
  method: POST
  url: "http://127.0.0.1:{{port}}/chat"
  headers: {{Authorization: "Bearer {SECRETS["bearer"]}", X-Tenant: acme}}
  json: {{message: "{{input}}", user_id: "{{user}}"}}
response:
  answer: $.answer
  degraded: {{field: $.degraded}}
non_ai_endpoints:
  - {{http: GET /notes/1, headers: {{X-Auth-Token: {SECRETS["probe_token"]}}}}}
"""

SCENARIO = """\
version: 1
name: brief
title: brief
seed: 4
sla: 4s
load: {users: 4, think: 100ms, patience: 5s}
phases:
  - {name: baseline, for: 3s}
checks: [resilience.contained]
"""


def test_no_secret_in_the_run_folder_and_owner_only_modes(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text(TARGET)
    (tmp_path / "brief.yaml").write_text(SCENARIO)
    runs = tmp_path / "runs"
    lab = [sys.executable, "-m", "gaplab", "run", "brief.yaml", "--target", "bot.yaml"]
    done = subprocess.run(
        [*lab, "--runs-dir", str(runs)],
        capture_output=True,
        text=True,
        timeout=80,
        cwd=tmp_path,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr  # the run happened
    (run_dir,) = runs.iterdir()
    files = sorted(p for p in run_dir.rglob("*") if p.is_file())
    names = {p.name for p in files}
    assert {"events.jsonl", "report.json", "scenario.json", "target.json", "target.log"} <= names
    leaks = [
        f"{what} in {path.name}"
        for path in files
        for what, secret in SECRETS.items()
        if secret.encode() in path.read_bytes()
    ]
    assert leaks == []
    modes = {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in files}
    assert set(modes.values()) == {"0o600"}, modes
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700

    target = json.loads((run_dir / "target.json").read_text())
    assert target["start"]["env"] == {
        "OPENAI_BASE_URL": "{provider.openai_base_url}",
        "OPENAI_API_KEY": "***",
        "db_password": "***",
        "LOG_LEVEL": "info",
    }
    assert target["request"]["headers"] == {"Authorization": "***", "X-Tenant": "acme"}
    assert target["start"]["ready"]["headers"] == {"Cookie": "***"}
    assert target["non_ai_endpoints"][0]["headers"] == {"X-Auth-Token": "***"}
    # The secrets did their work: the target ran with them and answered.
    report = json.loads((run_dir / "report.json").read_text())
    assert report["totals"]["outcomes"]["ok"] > 5
    # `lab runs` reads the same folder back.
    listing = subprocess.run(
        [sys.executable, "-m", "gaplab", "runs", "--runs-dir", str(runs)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    (row,) = listing.stdout.splitlines()[1:]
    assert row.split()[2:5] == [run_dir.name, "brief", "bot.yaml"], row
    score = report["verdict"]["score"]
    assert row.split()[-2] == ("-" if score is None else f"{score:.0f}%")
    assert row.endswith("yes")  # the run completed
