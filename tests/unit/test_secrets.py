"""Masking secret-looking env and header values, and owner-only run folder files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gaplab.engine.secrets import (
    create_private_file,
    looks_secret,
    make_private_dir,
    mask_secrets,
    write_private_text,
)


@pytest.mark.parametrize(
    "name",
    [
        "OPENAI_API_KEY",
        "x-api-key",
        "GITHUB_TOKEN",
        "client_secret",
        "DB_PASSWORD",
        "Authorization",
        "proxy-authorization",
        "Cookie",
        "Set-Cookie",
        "passwd",
    ],
)
def test_secret_names(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize("name", ["OPENAI_BASE_URL", "X-Tenant", "LOG_LEVEL", "Content-Type"])
def test_plain_names(name: str) -> None:
    assert not looks_secret(name)


def test_only_env_and_header_mappings_are_masked_at_any_depth() -> None:
    data = {
        "start": {"env": {"OPENAI_API_KEY": "sk-1", "PORT": "{port}"}},
        "request": {
            "headers": {"Authorization": "Bearer t", "X-Tenant": "acme"},
            "json": {"max_tokens": 50, "api_key": "not an env or header"},
        },
        "non_ai_endpoints": [{"http": "GET /a", "headers": {"X-Auth-Token": "t2"}}],
        "probe_headers": {"Cookie": "s=1"},
        "token_budget": 100,
        "env": {"EMPTY_TOKEN": ""},
    }
    assert mask_secrets(data) == {
        "start": {"env": {"OPENAI_API_KEY": "***", "PORT": "{port}"}},
        "request": {
            "headers": {"Authorization": "***", "X-Tenant": "acme"},
            "json": {"max_tokens": 50, "api_key": "not an env or header"},
        },
        "non_ai_endpoints": [{"http": "GET /a", "headers": {"X-Auth-Token": "***"}}],
        "probe_headers": {"Cookie": "***"},
        "token_budget": 100,
        "env": {"EMPTY_TOKEN": ""},  # nothing to hide
    }
    assert data["start"]["env"]["OPENAI_API_KEY"] == "sk-1"  # a copy: the input is untouched


def test_private_folder_and_file_modes(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "one"
    make_private_dir(run_dir)
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    path = run_dir / "a.json"
    path.write_text("old")
    path.chmod(0o644)
    write_private_text(path, "new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o600
    journal = run_dir / "events.jsonl"
    create_private_file(journal)
    with journal.open("a") as file:  # as the journal opens it
        file.write("{}\n")
    create_private_file(journal)  # an existing file is kept
    assert journal.read_text() == "{}\n" and stat.S_IMODE(journal.stat().st_mode) == 0o600
