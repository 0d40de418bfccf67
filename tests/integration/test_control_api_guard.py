"""The lab's loopback APIs refuse browsers, with real HTTP on real servers: the provider's
`/_lab` control API and the Toxiproxy-compatible API answer 403 to a `Mozilla/` user agent
and to a Host that is not loopback (DNS rebinding), the control API 415 to a body that is
not JSON; nothing the refused request asked for happens; the model endpoints stay open."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
import openai
import pytest

from gaplab.netfault import EmbeddedToxiproxy
from gaplab.provider.server import MockProvider

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)", "Origin": "http://evil"}
FAULT = '[{"error": 503}]'


@pytest.fixture
async def provider() -> AsyncIterator[MockProvider]:
    async with MockProvider(allowed_hosts=["lab-provider"]) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _faults(http: aiohttp.ClientSession, provider: MockProvider) -> list[object]:
    async with http.get(f"{provider.control_url}/faults") as answer:
        assert answer.status == 200
        body = await answer.json()
    faults = body["faults"]
    assert isinstance(faults, list)
    return faults


async def test_a_browser_cannot_set_faults(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    headers = {**BROWSER, "Content-Type": "text/plain"}
    async with http.post(f"{provider.control_url}/faults", data=FAULT, headers=headers) as answer:
        assert answer.status == 403
        assert await answer.json() == {"error": "User agent not allowed"}
    assert await _faults(http, provider) == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_the_control_api_takes_json_bodies_only(
    provider: MockProvider, http: aiohttp.ClientSession, content_type: str
) -> None:
    url = f"{provider.control_url}/faults"
    async with http.put(url, data=FAULT, headers={"Content-Type": content_type}) as answer:
        assert answer.status == 415
        assert "application/json" in (await answer.json())["error"]
    assert await _faults(http, provider) == []
    headers = {"Content-Type": "application/json; charset=utf-8"}
    async with http.put(url, data=FAULT, headers=headers) as answer:
        assert answer.status == 200
    assert await _faults(http, provider) == [{"error": 503}]
    async with http.post(url, data=b"", headers={}) as empty:  # no body, no type: refused
        assert empty.status == 415


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:80", "10.1.2.3", "127.0.0.1.nip.io"]
)
async def test_a_foreign_host_cannot_read_the_journal(
    provider: MockProvider, http: aiohttp.ClientSession, host: str
) -> None:
    async with openai.AsyncOpenAI(base_url=provider.openai_base_url, api_key="k") as sdk:
        await sdk.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "my secret plan"}]
        )
    url = f"{provider.control_url}/journal"
    async with http.get(url, headers={"Host": host}) as answer:
        assert answer.status == 403
        text = await answer.text()
    assert json.loads(text) == {"error": "Host not allowed"} and "secret plan" not in text
    async with http.get(url) as answer:  # the lab's own client: Host 127.0.0.1:port
        assert answer.status == 200
        assert "my secret plan" in await answer.text()


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST:1234",
        "127.0.0.1",
        "127.8.9.10:80",
        "[::1]:8080",
        "[::1]",
        "lab-provider:9",
    ],
)
async def test_loopback_and_allowed_hosts_are_served(
    provider: MockProvider, http: aiohttp.ClientSession, host: str
) -> None:
    async with http.get(f"{provider.control_url}/health", headers={"Host": host}) as answer:
        assert answer.status == 200


async def test_model_endpoints_stay_open_to_every_client(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    headers = {**BROWSER, "Host": "evil.example"}
    async with http.get(f"{provider.openai_base_url}/models", headers=headers) as answer:
        assert answer.status == 200
    async with openai.AsyncOpenAI(base_url=provider.openai_base_url, api_key="k") as sdk:
        reply = await sdk.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
        )
    assert reply.choices[0].message.content


@pytest.fixture
def toxiproxy() -> Iterator[str]:
    server = EmbeddedToxiproxy(port=0)
    server.start()
    yield server.url
    server.stop()


@pytest.mark.parametrize("path", ["/proxies", "/version"])
async def test_the_toxiproxy_api_refuses_a_foreign_host(
    toxiproxy: str, http: aiohttp.ClientSession, path: str
) -> None:
    async with http.get(toxiproxy + path, headers={"Host": "evil.example:8474"}) as answer:
        assert answer.status == 403
        assert await answer.text() == "Host not allowed\n"
    create = {"name": "api", "upstream": "127.0.0.1:9"}
    headers = {"Host": "evil.example"}
    async with http.post(f"{toxiproxy}/proxies", json=create, headers=headers) as answer:
        assert answer.status == 403
    async with http.get(f"{toxiproxy}/proxies", headers={"Host": "localhost:8474"}) as answer:
        assert answer.status == 200
        assert await answer.json() == {}  # the refused request created nothing


async def test_the_toxiproxy_api_refuses_browsers(
    toxiproxy: str, http: aiohttp.ClientSession
) -> None:
    create = {"name": "api", "upstream": "127.0.0.1:9"}
    async with http.post(f"{toxiproxy}/proxies", json=create, headers=BROWSER) as answer:
        assert answer.status == 403
        assert await answer.text() == "User agent not allowed\n"
    async with http.get(f"{toxiproxy}/proxies") as answer:
        assert await answer.json() == {}


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (["provider", "serve", "--stream-workers", "0"], "/_lab/health"),
        (["proxy", "serve"], "/version"),
    ],
)
def test_serve_commands_accept_the_hosts_they_are_told(command: list[str], path: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "gaplab", *command, "--port", "0", "--json", "--allow-host", "lab"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
        root = started.get("api_url") or started["anthropic_base_url"]
        port = root.rsplit(":", 1)[1]
        assert httpx.get(root + path, headers={"Host": f"lab:{port}"}).status_code == 200
        assert httpx.get(root + path, headers={"Host": f"other:{port}"}).status_code == 403
    finally:
        process.terminate()
        process.wait(timeout=20)
