"""The HTML report in a real browser: headless Chromium (Debian's `chromium`) loads the file
with the network cut off (a proxy to nowhere, and every request but the file's own failed
through the DevTools protocol), and the test asserts no console error, no request, every
chart drawn, the toolbar working; a full-page screenshot is kept under the test's tmp path.

Without Chromium the test tries `apt-get install -y chromium` (as .ci/run does) and is
skipped with the install error when that fails.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gaplab.report.html import write_html
from tests.unit.report_runs import naive_run

NAMES = ("chromium", "chromium-browser")


def _chromium() -> str:
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    if not shutil.which("apt-get") or os.geteuid() != 0:
        pytest.skip("chromium is not installed and apt-get cannot install it here")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"],
            capture_output=True, text=True, timeout=900, env=env, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"chromium could not be installed: {exc}")
    if done.returncode != 0:
        pytest.skip(f"chromium could not be installed: {done.stderr.strip()[-600:]}")
    return shutil.which("chromium") or pytest.skip("chromium installed but not on PATH")


class DevTools:
    """One page's DevTools session: commands with replies, events collected."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._next = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []
        self._decisions: set[asyncio.Task[None]] = set()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data:
                self._waiting.pop(data["id"]).set_result(data)
                continue
            self.events.append(data)
            for method, future in list(self._listeners):
                if method == data["method"] and not future.done():
                    future.set_result(data)
            if data["method"] == "Fetch.requestPaused":
                task = asyncio.create_task(self._decide(data["params"]))
                self._decisions.add(task)
                task.add_done_callback(self._decisions.discard)

    async def _decide(self, params: dict[str, Any]) -> None:
        if params["request"]["url"] == self.allowed:
            await self.send("Fetch.continueRequest", requestId=params["requestId"])
        else:
            self.blocked.append(params["request"]["url"])
            await self.send(
                "Fetch.failRequest", requestId=params["requestId"], errorReason="BlockedByClient"
            )

    allowed = ""
    blocked: list[str]

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[self._next] = future
        await self.ws.send_str(json.dumps({"id": self._next, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, 30)
        assert "error" not in reply, reply
        return reply.get("result", {})

    def next_event(self, method: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._listeners.append((method, future))
        return future

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


@contextlib.asynccontextmanager
async def browser(binary: str, profile: Path) -> AsyncIterator[DevTools]:
    process = subprocess.Popen(  # noqa: ASYNC220 (started once; the test waits on its socket)
        [
            binary, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-default-apps", "--disable-extensions",
            "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and len(port_file.read_text().splitlines()) >= 2:
                break
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as reply:
                targets = await reply.json()
            page = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tools = DevTools(ws)
                tools.blocked = []
                yield tools
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.timeout(180)
async def test_the_html_report_works_offline_in_chromium(tmp_path: Path) -> None:
    binary = _chromium()
    report_file = tmp_path / "report.html"
    write_html(naive_run().report(), report_file)
    url = report_file.as_uri()
    async with browser(binary, tmp_path / "profile") as page:
        page.allowed = url
        for domain in ("Network", "Page", "Runtime", "Log"):
            await page.send(f"{domain}.enable")
        await page.send("Fetch.enable", patterns=[{"urlPattern": "*"}])
        await page.send("Emulation.setDeviceMetricsOverride", width=1100, height=900,
                        deviceScaleFactor=1, mobile=False)  # fmt: skip
        loaded = page.next_event("Page.loadEventFired")
        await page.send("Page.navigate", url=url)
        await asyncio.wait_for(loaded, 30)
        dom = await page.evaluate(
            """JSON.stringify({
              charts: [...document.querySelectorAll('figure[data-chart]')].map(f => [
                f.dataset.chart, f.querySelectorAll('svg').length,
                f.querySelectorAll('svg rect, svg polyline').length]),
              bands: document.querySelectorAll('svg .band.outage rect').length,
              items: document.querySelectorAll('details.item').length,
              open: document.querySelectorAll('details.item[open]').length,
              toolbar: !document.querySelector('.toolbar').hidden,
              width: document.querySelector('svg.chart').getBoundingClientRect().width,
            })"""
        )
        state = json.loads(dom)
        expanded = await page.evaluate(
            "document.querySelector('[data-expand=\"1\"]').click();"
            "document.querySelectorAll('details.item:not([open])').length"
        )
        height = (await page.send("Page.getLayoutMetrics"))["cssContentSize"]["height"]
        await page.send(
            "Emulation.setDeviceMetricsOverride",
            width=1100,
            height=min(int(height), 12000),
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = await page.send("Page.captureScreenshot", format="png")
        await asyncio.sleep(0.2)  # let late events (a lazy request, an error) arrive
        events = list(page.events)

    screenshot = tmp_path / "report.png"
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {screenshot}")
    errors = [
        e["params"]
        for e in events
        if (
            e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")
        )
        or e["method"] == "Runtime.exceptionThrown"
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []
    requested = [
        e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
    ]
    assert requested == [url] and page.blocked == []
    charts = {name: (svgs, shapes) for name, svgs, shapes in state["charts"]}
    assert set(charts) == {"outcomes", "latency", "upstream", "cost"}
    assert all(svgs == 1 and shapes >= 2 for svgs, shapes in charts.values()), charts
    assert state["bands"] == 3 and state["width"] > 600
    assert state["items"] == 6 and state["open"] == 3  # the failing items open
    assert state["toolbar"] is True and expanded == 0
    assert (
        screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
    )
