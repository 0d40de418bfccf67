"""pytest plugin (entry point `pytest11`): the `mock_llm` fixture for users' own test suites.

The fixture starts a `MockProvider` on a free loopback port in a background thread with
its own event loop, so it serves sync and async tests alike, and stops it after the test.
Configure it with `@pytest.mark.mock_llm(profile="anthropic", seed=3, latency_scale=1.0)`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from typing import Any

import pytest

from gaplab import runtime
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.profiles import ProviderProfile, load_profile
from gaplab.provider.server import MockProvider

DEFAULT_LATENCY_SCALE = 0.1  # tests want answers in tens of milliseconds, not hundreds


class MockLLM:
    """A mock provider running in a background thread; every method is safe to call from
    the test's thread."""

    def __init__(
        self,
        profile: str | ProviderProfile = "openai",
        *,
        seed: int = 1,
        latency_scale: float = DEFAULT_LATENCY_SCALE,
    ) -> None:
        loaded = profile if isinstance(profile, ProviderProfile) else load_profile(profile)
        if latency_scale != 1.0:
            loaded = loaded.with_latency_scale(latency_scale)
        self._calls: list[ProviderCall] = []
        self._lock = threading.Lock()
        self.provider = MockProvider(loaded, seed=seed, on_call=self._record)
        self._loop = runtime.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="gaplab-mock-llm", daemon=True
        )

    def _record(self, call: ProviderCall) -> None:
        with self._lock:
            self._calls.append(call)

    def _run(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=30)

    def start(self) -> MockLLM:
        self._thread.start()
        self._run(self.provider.start())
        return self

    def stop(self) -> None:
        try:
            self._run(self.provider.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    @property
    def openai_base_url(self) -> str:
        return self.provider.openai_base_url

    @property
    def anthropic_base_url(self) -> str:
        return self.provider.anthropic_base_url

    @property
    def control_url(self) -> str:
        return self.provider.control_url

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point the official SDKs at this provider."""
        return {
            "OPENAI_BASE_URL": self.openai_base_url,
            "OPENAI_API_KEY": "lab-key",
            "ANTHROPIC_BASE_URL": self.anthropic_base_url,
            "ANTHROPIC_API_KEY": "lab-key",
        }

    def set_faults(self, *faults: ProviderFault | Mapping[str, Any]) -> None:
        """Replace the active faults, e.g. `set_faults({"error": 503, "first": 2})`."""
        parsed = [
            f if isinstance(f, ProviderFault) else ProviderFault.model_validate(f) for f in faults
        ]

        async def apply() -> None:
            self.provider.set_faults(parsed)

        self._run(apply())

    def clear_faults(self) -> None:
        self.set_faults()

    @property
    def calls(self) -> list[ProviderCall]:
        """Every call recorded so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def wait_for_calls(self, count: int, timeout: float = 10.0) -> list[ProviderCall]:
        """Block until at least `count` calls ended (a hung call ends when its client
        leaves), then return them; `TimeoutError` otherwise."""
        deadline = time.monotonic() + timeout
        while len(self.calls) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.calls)} of {count} provider calls after {timeout}s")
            time.sleep(0.01)
        return self.calls


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mock_llm(profile='openai', seed=1, latency_scale=0.1): configure the "
        "gaplab mock_llm fixture",
    )


@pytest.fixture
def mock_llm(request: pytest.FixtureRequest) -> Iterator[MockLLM]:
    """A gaplab mock LLM provider on a free port for this test (see docs/provider.md)."""
    marker = request.node.get_closest_marker("mock_llm")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    mock = MockLLM(**options).start()
    try:
        yield mock
    finally:
        mock.stop()
