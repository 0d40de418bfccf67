"""The loop gaplab's own processes run on: uvloop where installed, the standard one on request."""

from __future__ import annotations

import asyncio

import pytest

from gaplab import runtime


def test_uvloop_is_used_where_it_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    uvloop = pytest.importorskip("uvloop")  # a dependency everywhere but Windows
    monkeypatch.delenv(runtime.ENV_LOOP, raising=False)
    loop = runtime.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
    assert runtime.run(_loop_type()) is uvloop.Loop


def test_the_standard_loop_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runtime.ENV_LOOP, "asyncio")
    assert not runtime.uvloop_enabled()
    loop = runtime.new_event_loop()
    try:
        assert type(loop).__module__.startswith("asyncio")
    finally:
        loop.close()
    assert runtime.run(_loop_type()).__module__.startswith("asyncio")


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())
