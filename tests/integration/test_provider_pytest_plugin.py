"""The `mock_llm` fixture (pytest11 entry point), as a user's own suite would use it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import openai
import pytest

from gaplab.provider.pytest_plugin import MockLLM


def test_fixture_serves_a_sync_client_and_records_retries(mock_llm: MockLLM) -> None:
    client = openai.OpenAI(base_url=mock_llm.openai_base_url, api_key="k")
    mock_llm.set_faults({"error": 503, "first": 1, "retry_after": "10ms"})
    answer = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Summarise the outage"}]
    )
    assert "outage" in (answer.choices[0].message.content or "").lower()
    calls = mock_llm.wait_for_calls(2)
    assert [(c.status, c.retry_count) for c in calls] == [(503, 0), (200, 1)]


@pytest.mark.mock_llm(profile="anthropic", seed=9)
def test_marker_selects_the_profile(mock_llm: MockLLM) -> None:
    import anthropic

    client = anthropic.Anthropic(base_url=mock_llm.anthropic_base_url, api_key="k")
    message = client.messages.create(
        model="claude-3-5-haiku-latest",
        max_tokens=100,
        messages=[{"role": "user", "content": "hello there"}],
    )
    assert message.model == "claude-3-5-haiku-20241022"
    assert mock_llm.env["ANTHROPIC_BASE_URL"] == mock_llm.anthropic_base_url


def test_a_users_suite_gets_the_fixture_from_the_entry_point(tmp_path: Path) -> None:
    suite = tmp_path / "test_users_feature.py"
    suite.write_text(
        textwrap.dedent("""
        import openai

        def test_fallback_on_outage(mock_llm):
            mock_llm.set_faults({"error": 500})
            client = openai.OpenAI(base_url=mock_llm.openai_base_url, api_key="k",
                                   max_retries=0)
            try:
                client.chat.completions.create(model="gpt-4o-mini",
                                               messages=[{"role": "user", "content": "hi"}])
            except openai.InternalServerError:
                pass
            assert [c.status for c in mock_llm.calls] == [500]
    """)
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
