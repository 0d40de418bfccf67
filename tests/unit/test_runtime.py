"""The loop gaplab's own processes run on: uvloop where installed, the standard one on request."""

from __future__ import annotations

import asyncio
import subprocess
import sys

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


def test_the_open_file_limit_is_lifted_towards_the_hard_limit() -> None:
    resource = pytest.importorskip("resource")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.skip("the hard limit leaves nothing to lift")
    # In a child, started at a low soft limit as many systems start processes at 1,024.
    code = (
        "import resource; from gaplab import runtime; "
        "limit = resource.RLIMIT_NOFILE; "
        "resource.setrlimit(limit, (256, resource.getrlimit(limit)[1])); "
        "print(runtime.raise_open_file_limit(4096))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    expected = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    assert result.stdout.strip() == str(expected), result.stderr
