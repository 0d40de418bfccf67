"""The mock provider against the previous major version of the `openai` SDK (2.x, built on
httpx where 3.x uses httpx2), which many services still pin.

Both majors cannot be installed in one environment, so this test installs openai 2.x on
its own into a temporary directory (`pip install --target`, without dependencies: the ones
it needs, httpx, pydantic, anyio, jiter, are ours too) and runs a client script in a child
Python with that directory first on its path, against a provider started here. The journal
then shows what the 2.x client sent and how it retried.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gaplab.provider.faults import ProviderFault
from gaplab.provider.profiles import load_profile
from gaplab.provider.server import MockProvider

PACKAGES = ["openai>=2,<3", "distro", "tqdm"]  # the two small ones 3.x no longer needs
FAST = load_profile("openai").with_latency_scale(0.02)

CLIENT = r"""
import json, sys
import openai

client = openai.OpenAI(base_url=sys.argv[1], api_key="lab", max_retries=2)
out = {"version": openai.__version__, "httpx": __import__("httpx").__version__}
ask = [{"role": "user", "content": "How do I rotate the API keys of the billing service?"}]
whole = client.chat.completions.create(model="gpt-4o-mini", messages=ask, max_tokens=60)
out["whole"] = whole.choices[0].message.content
out["model"] = whole.model
pieces = []
for chunk in client.chat.completions.create(
    model="gpt-4o-mini", messages=ask, max_tokens=60, stream=True,
    stream_options={"include_usage": True},
):
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
    if chunk.usage is not None:
        out["stream_usage"] = chunk.usage.completion_tokens
out["streamed"] = "".join(pieces)
# The provider now refuses the next two calls with 429 and retry-after-ms: 2.x must retry.
print(json.dumps(out), flush=True)
sys.stdin.readline()
retried = client.chat.completions.create(model="gpt-4o-mini", messages=ask, max_tokens=60)
print(json.dumps({"retried": retried.choices[0].message.content}), flush=True)
# Now every call is refused for quota: the SDK retries (it goes by status), then raises.
sys.stdin.readline()
try:
    client.chat.completions.create(model="gpt-4o-mini", messages=ask, max_tokens=60)
    out = {"quota_error": None}
except openai.RateLimitError as exc:
    out = {"quota_error": [type(exc).__name__, exc.code]}
print(json.dumps(out), flush=True)
"""


@pytest.fixture(scope="module")
def openai_v2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("openai-v2")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            *PACKAGES,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if install.returncode != 0:
        pytest.skip(f"cannot install openai 2.x from the package index: {install.stderr[-300:]}")
    return target


async def step(
    child: asyncio.subprocess.Process, provider: MockProvider, faults: list[ProviderFault]
) -> dict[str, object]:
    """Set the provider's faults, let the client script take its next step, read its line."""
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    provider.set_faults(faults)
    child.stdin.write(b"go\n")
    await child.stdin.drain()
    line = await asyncio.wait_for(child.stdout.readline(), 60)
    assert line, (await child.stderr.read()).decode()[-2000:]
    result: dict[str, object] = json.loads(line)
    return result


async def test_openai_v2_sdk_answers_streams_and_retries_against_the_mock(
    openai_v2: Path,
) -> None:
    async with MockProvider(FAST, seed=3) as provider:
        env = {**os.environ, "PYTHONPATH": str(openai_v2)}
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLIENT,
            provider.openai_base_url,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        try:
            first = json.loads(await asyncio.wait_for(child.stdout.readline(), 60) or b"null")
            assert first is not None, (await child.stderr.read()).decode()[-2000:]  # type: ignore[union-attr]
            second = await step(
                child, provider, [ProviderFault(error=429, retry_after=0.05, first=2)]
            )
            quota = ProviderFault(error=429, code="insufficient_quota", retry_after=0.01)
            third = await step(child, provider, [quota])
        finally:
            if child.returncode is None:
                child.kill()
            await child.wait()
        calls = list(provider.journal)

    assert first["version"].startswith("2.") and first["httpx"].startswith("0.")
    assert first["model"] == "gpt-4o-mini-2024-07-18"
    assert first["whole"] and first["streamed"]
    assert first["stream_usage"] > 0
    assert second["retried"]
    # Two refusals then the answer, each retry numbered by the SDK (x-stainless-retry-count).
    tail = [(c.status, c.retry_count) for c in calls[2:5]]
    assert tail == [(429, 0), (429, 1), (200, 2)]
    assert third["quota_error"] == ["RateLimitError", "insufficient_quota"]
    assert [(c.status, c.retry_count) for c in calls[5:]] == [(429, 0), (429, 1), (429, 2)]
    assert all(c.user_agent.startswith("OpenAI/Python 2.") for c in calls)
