"""The demos' operations side, as real subprocesses against the real mock provider: the
hardened demo's Prometheus metrics, kill switch, queued and idempotent note enrichment and
bulkhead, each switchable off, and the naive demo's notes that wait for the model."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from gaplab.provider.faults import ProviderFault
from gaplab.provider.server import MockProvider
from gaplab.scenario.probe_models import MetricsSpec
from gaplab.target.prometheus import read_metrics

from .test_demo_targets import ask, calls, degraded, http, provider, running_demo

__all__ = ["http", "provider"]  # fixtures

SPEC = MetricsSpec(
    latency_histogram="demo_ai_call_seconds",
    tokens={"input": "demo_ai_input_tokens_total", "output": "demo_ai_output_tokens_total"},
    model_label="model",
)


async def _metrics(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url + "/metrics") as response:
        assert response.status == 200
        return await response.text()


async def test_metrics_count_every_call_with_the_served_model_and_its_tokens(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened") as url:
        for _ in range(3):
            assert (await ask(http, url))[0] == 200
        provider.set_faults([ProviderFault(model_swap="gpt-4o")])
        assert (await ask(http, url))[0] == 200
        reading = read_metrics(await _metrics(http, url), SPEC)
    seen = calls(provider)
    assert reading.missing == ()
    assert reading.count == len(seen) == 4
    assert reading.tokens_in == sum(c.tokens_in for c in seen)
    assert reading.tokens_out == sum(c.tokens_out for c in seen)
    served = {c.model_served for c in seen}
    assert len(served) == 2 and {m for m, n in reading.models if n} == served


async def test_without_metrics_the_endpoint_has_no_ai_metrics(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened", "--without", "metrics") as url:
        await ask(http, url)
        reading = read_metrics(await _metrics(http, url), SPEC)
    assert reading.missing == (
        "demo_ai_call_seconds",
        "demo_ai_input_tokens_total",
        "demo_ai_output_tokens_total",
    )


async def test_kill_switch_turns_the_ai_off_and_on_without_a_restart(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened") as url:
        async with http.post(url + "/admin/ai", json={"enabled": False}) as switched:
            assert switched.status == 200
        status, body, _ = await ask(http, url)
        assert status == 200 and degraded(body) and calls(provider) == []
        async with http.get(url + "/health") as health:
            assert (await health.json())["status"] == "degraded"
        async with http.post(url + "/admin/ai", json={"enabled": True}) as switched:
            assert switched.status == 200
        status, body, _ = await ask(http, url)
        assert status == 200 and not degraded(body) and len(calls(provider)) == 1
    async with (
        running_demo(provider, tmp_path, "hardened", "--without", "kill_switch") as url,
        http.post(url + "/admin/ai", json={"enabled": False}) as switched,
    ):
        assert switched.status == 404


async def test_notes_are_saved_at_once_enriched_later_and_once(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened") as url:
        provider.set_faults([ProviderFault(latency=1.0)])
        started = time.monotonic()
        async with http.post(url + "/notes", json={"text": "Note ABC-123456: a flat"}) as made:
            assert made.status == 201
            note = await made.json()
        assert time.monotonic() - started < 0.5  # the model takes 1 s: it was not awaited
        for _ in range(40):
            async with http.get(url + f"/notes/{note['id']}") as got:
                if (await got.json())["summary"]:
                    break
            await asyncio.sleep(0.1)
        assert len(calls(provider)) == 1
        for _ in range(3):
            async with http.post(url + f"/notes/{note['id']}/enrich") as again:
                assert again.status == 200 and (await again.json())["summary"]
        assert len(calls(provider)) == 1  # already enriched: no model call


async def test_without_async_write_and_idempotency_notes_wait_and_repeat(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    for name, args in (("naive", ()), ("hardened", ("--without", "async_write,idempotency"))):
        provider.journal.clear()
        async with running_demo(provider, tmp_path, name, *args, label=name) as url:
            provider.set_faults([ProviderFault(latency=0.6)])
            started = time.monotonic()
            async with http.post(url + "/notes", json={"text": "Note ABC-654321: brakes"}) as made:
                assert made.status == 201, name
                note = await made.json()
            assert time.monotonic() - started >= 0.6, name  # the write waited for the model
            assert note["summary"], name
            async with http.post(url + f"/notes/{note['id']}/enrich") as again:
                assert again.status == 200, name
            assert len(calls(provider)) == 2, name  # enriched again
            provider.clear_faults()


async def test_the_bulkhead_sheds_past_its_limit_with_a_fast_503_fallback(
    provider: MockProvider, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with running_demo(provider, tmp_path, "hardened", "--concurrency", "2") as url:
        provider.set_faults([ProviderFault(latency=1.0)])
        answers = await asyncio.gather(*(ask(http, url) for _ in range(6)))
    shed = [a for a in answers if a[0] == 503]
    assert len(shed) == 4 and all(degraded(body) and seconds < 0.5 for _, body, seconds in shed)
    assert sorted(a[0] for a in answers).count(200) == 2 and len(calls(provider)) == 2
