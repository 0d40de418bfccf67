"""`MockProvider`: a real aiohttp server on loopback speaking the provider wire formats,
with faults set from scenarios or the control API and one journal record per call.

It runs on the event loop where `start()` is awaited; `stop()` ends every call still in
flight (hung ones included, recorded as `hung`) and closes every connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from aiohttp import web

from gaplab.engine.clock import Clock, MonotonicClock
from gaplab.loopback_guard import allowed_hosts as guard_hosts
from gaplab.provider.anthropic_wire import AnthropicWire
from gaplab.provider.callstate import ProviderState
from gaplab.provider.chat import handle_chat
from gaplab.provider.control import CONTROL_PREFIX, add_control_routes
from gaplab.provider.embeddings import handle_embeddings
from gaplab.provider.faults import ProviderFault
from gaplab.provider.journal import ProviderCall
from gaplab.provider.openai_wire import OpenAIWire
from gaplab.provider.pacer_pool import PacerPool
from gaplab.provider.profiles import ProviderProfile, load_profile
from gaplab.provider.recorder import JournalView

# Connections the kernel queues before the provider accepts them: a burst of new streams
# while the provider is busy must wait in the queue, not have its SYNs dropped (a client
# then retries after 1 s, then 3 s). The kernel caps it at net.core.somaxconn.
BACKLOG = 4096


class MockProvider:
    def __init__(
        self,
        profile: str | ProviderProfile = "openai",
        *,
        seed: int = 1,
        clock: Clock | None = None,
        on_call: Callable[[ProviderCall], None] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        journal_capacity: int = 10_000,
        journal_path: Path | None = None,
        stream_workers: int = 0,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.profile = profile if isinstance(profile, ProviderProfile) else load_profile(profile)
        self.seed = seed
        self.clock: Clock = clock or MonotonicClock()
        self.host = host
        self._requested_port = port
        # Host names the control API accepts besides loopback ones (gaplab.loopback_guard).
        self.allowed_hosts = guard_hosts(host, allowed_hosts)
        # Child processes that write streamed chunks (gaplab.provider.pacer_pool); 0 paces
        # every stream on this event loop.
        self.stream_workers = stream_workers
        # Memory holds the last `journal_capacity` calls; `journal_path` keeps them all.
        self._journal = JournalView(journal_capacity, on_call, spill_path=journal_path)
        self._pending_faults: Sequence[ProviderFault] = ()
        self._pending_span: float | None = None
        self._state: ProviderState | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the mock provider is already started")
        state = ProviderState(self.profile, self.seed, self.clock, self._journal)
        state.set_faults(self._pending_faults, self._pending_span)
        if self.stream_workers:
            pool = PacerPool(self.stream_workers)
            await pool.start()
            state.pacer = pool
        self._state = state
        app = web.Application(client_max_size=64 * 1024 * 1024)
        openai, anthropic = OpenAIWire(), AnthropicWire()

        async def openai_chat(request: web.Request) -> web.StreamResponse:
            return await handle_chat(state, openai, request)

        async def anthropic_messages(request: web.Request) -> web.StreamResponse:
            return await handle_chat(state, anthropic, request)

        async def embeddings(request: web.Request) -> web.StreamResponse:
            return await handle_embeddings(state, request)

        app.router.add_post("/v1/chat/completions", openai_chat)
        app.router.add_post("/chat/completions", openai_chat)
        app.router.add_post("/v1/messages", anthropic_messages)
        app.router.add_post("/v1/embeddings", embeddings)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model_id:.+}", self._get_model)
        add_control_routes(app, state, self.allowed_hosts)
        # handler_cancellation: a client that leaves cancels its handler, so a hung call
        # is recorded when the client gives up rather than when the provider stops.
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(
            runner, self.host, self._requested_port, reuse_address=True, backlog=BACKLOG
        )
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            await self._stop_pool()
            raise
        self._runner = runner
        # runner.addresses works on any event loop (asyncio's or uvloop's server).
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        state, runner = self._state, self._runner
        if state is None or runner is None:
            return
        state.stopping = True
        state.stop_event.set()
        tasks = list(state.active)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()
        self._runner = None
        await self._stop_pool()
        self._journal.close()  # reopened (appending) if this provider is started again

    async def _stop_pool(self) -> None:
        if self._state is not None and isinstance(self._state.pacer, PacerPool):
            await self._state.pacer.stop()

    async def __aenter__(self) -> MockProvider:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # -- addresses -------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.root_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.root_url

    @property
    def control_url(self) -> str:
        return f"{self.root_url}{CONTROL_PREFIX}"

    # -- faults and journal ----------------------------------------------------------------

    def set_faults(self, faults: Sequence[ProviderFault], span: float | None = None) -> None:
        """Replace the active faults; their counters start again from zero. `span` is how
        long they are meant to last (the engine passes the phase's length): a latency ramp
        moves across it."""
        self._pending_faults = tuple(faults)
        self._pending_span = span
        if self._state is not None:
            self._state.set_faults(self._pending_faults, span)

    def clear_faults(self) -> None:
        self.set_faults(())

    @property
    def faults(self) -> list[ProviderFault]:
        return list(self._pending_faults)

    def fault_counters(self) -> list[dict[str, int]]:
        """Per active fault (in `set_faults` order): calls it `matched` (inside its scope)
        and calls it `fired` on, since it was set."""
        if self._state is None:
            return [{"matched": 0, "fired": 0} for _ in self._pending_faults]
        return self._state.schedule.counters()

    @property
    def in_flight(self) -> int:
        """Calls received and not yet ended (hung ones included)."""
        return len(self._state.active) if self._state is not None else 0

    @property
    def journal(self) -> JournalView:
        return self._journal

    # -- model listing ---------------------------------------------------------------------

    async def _list_models(self, _: web.Request) -> web.Response:
        data = [_model_object(spec.id, spec.created) for spec in self.profile.models]
        data += [
            _model_object(alias, spec.created)
            for spec in self.profile.models
            for alias in spec.aliases
        ]
        return web.json_response(
            {"object": "list", "data": data},
            headers={"x-request-id": f"req_models{int(time.time())}"},
        )

    async def _get_model(self, request: web.Request) -> web.Response:
        model_id = request.match_info["model_id"]
        spec = self.profile.find_model(model_id)
        if spec is None:
            body = {
                "error": {
                    "message": f"The model '{model_id}' does not exist",
                    "type": "invalid_request_error",
                    "param": "model",
                    "code": "model_not_found",
                }
            }
            return web.json_response(body, status=404)
        return web.json_response(_model_object(model_id, spec.created))


def _model_object(model_id: str, created: int) -> dict[str, object]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": "system"}
