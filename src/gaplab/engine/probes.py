"""The prober: what the lab reads from the target itself while a run goes, and the actions
it takes on it at phase edges. Only what the scenario's checks need, and only what the
target file declares (`health`, `metrics`, `kill_switch`, `write`, `enrichment`).

- health: polled every `HEALTH_EVERY` s (`HealthProbed`);
- metrics: scraped every `METRICS_EVERY` s, once before the users start and once after
  they stop (`MetricsScraped`), parsed by gaplab.target.prometheus;
- write: a probe write every `write.every` s (`TargetActed` "write"), for async writes;
- enrichment: once, early in the run: write an item, wait until the provider saw it being
  enriched, then re-trigger its enrichment `RETRIGGERS` times ("enrich");
- kill switch: `off` at the start of a phase with `kill_switch: true`, `on` at its end.

Every result is an event on the bus, so it is journaled and `lab report` rebuilds the
probed verdicts. The prober has its own small aiohttp session and keeps light (a GET
every half second), so it does not disturb the other checks: writes and enrichment, which
make the target call the model, run only in scenarios whose checks ask for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp

from gaplab.engine.clock import Clock
from gaplab.engine.events import Event, HealthProbed, MetricsScraped, TargetActed
from gaplab.engine.join import call_references
from gaplab.load.inputs.reference import MAX_USERS, References
from gaplab.provider.journal import ProviderCall
from gaplab.scenario.models import Phase, Scenario
from gaplab.scenario.probe_models import ProbeRequest
from gaplab.scenario.target_models import TargetFile
from gaplab.target.jsonpath import extract
from gaplab.target.prometheus import read_metrics
from gaplab.target.template import render

log = logging.getLogger(__name__)

HEALTH_EVERY = 0.5
METRICS_EVERY = 1.0
TIMEOUT = 5.0  # seconds for one probe: a probe must never hang a run
RETRIGGERS = 3
PROBE_USER = MAX_USERS - 1  # the references of the prober's items: no virtual user has it
NOTES = (
    "the rear brake squeaks after the last repair",
    "asked to move the delivery of order 1042 to Friday",
    "wants to return a helmet that does not fit",
    "reports a flat tyre two days after pick-up",
)

Publish = Callable[[Event], None]
CallsSeen = Callable[[], list[ProviderCall]]


def probes_needed(scenario: Scenario) -> frozenset[str]:
    """What the scenario's checks read from the target (each check's `probes`)."""
    from gaplab.checks.registry import CHECKS

    needed: set[str] = set()
    for ref in scenario.checks:
        check = CHECKS.get(ref.id)
        if check is not None:
            needed |= check.probes
    if any(phase.kill_switch for phase in scenario.phases):
        needed.add("kill_switch")
    return frozenset(needed)


class TargetProber:
    def __init__(
        self,
        target: TargetFile,
        base_url: str,
        names: dict[str, str],
        needs: frozenset[str],
        *,
        clock: Clock,
        publish: Publish,
        current_phase: Callable[[], str],
        calls_seen: CallsSeen,
        seed: int,
    ) -> None:
        self.target, self.base_url, self.names = target, base_url, names
        self.needs = needs
        self.clock, self.publish, self.current_phase = clock, publish, current_phase
        self.calls_seen = calls_seen
        self._references = References(seed, PROBE_USER)
        self._written = 0
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def _wants(self, probe: str) -> bool:
        return probe in self.needs and getattr(self.target, probe, None) is not None

    @property
    def active(self) -> bool:
        return any(self._wants(p) for p in ("health", "metrics", "write", "enrichment")) or (
            self._wants("kill_switch")
        )

    async def start(self) -> None:
        """Open the session, take the first scrape, start the loops."""
        if not self.active:
            return
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=TIMEOUT), raise_for_status=False
        )
        if self._wants("metrics"):
            await self.scrape()
        loops: list[Coroutine[Any, Any, None]] = []
        if self._wants("health"):
            loops.append(self._every(HEALTH_EVERY, self.check_health))
        if self._wants("metrics"):
            loops.append(self._every(METRICS_EVERY, self.scrape))
        if self._wants("write"):
            assert self.target.write is not None
            loops.append(self._every(self.target.write.every, self._probe_write))
        if self._wants("enrichment") and self.target.write is not None:
            loops.append(self._enrichment())
        self._tasks = [asyncio.create_task(loop) for loop in loops]

    async def stop(self) -> None:
        """Stop the loops and take the last scrape (the users have stopped: every call the
        target counted is in it)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._session is None:
            return
        try:
            if self._wants("metrics"):
                await asyncio.sleep(0.2)  # answers the users dropped still being counted
                await self.scrape()
        finally:
            await self._session.close()
            self._session = None

    async def phase_started(self, phase: Phase) -> None:
        if phase.kill_switch and self._wants("kill_switch"):
            assert self.target.kill_switch is not None
            await self.act("kill_switch.off", self.target.kill_switch.off)

    async def phase_ended(self, phase: Phase) -> None:
        if phase.kill_switch and self._wants("kill_switch"):
            assert self.target.kill_switch is not None
            await self.act("kill_switch.on", self.target.kill_switch.on)

    # -- one probe each ---------------------------------------------------------------------
    async def _request(
        self, request: ProbeRequest, names: dict[str, str]
    ) -> tuple[int, bytes, float, str]:
        """(status, body, seconds, error text); status 0 when there was no answer."""
        assert self._session is not None
        all_names = {**self.names, **names}
        url = self.base_url + render(request.path, all_names)
        headers = dict(render(request.headers, all_names))
        data = None
        if request.json_body is not None:
            data = json.dumps(render(request.json_body, all_names))
            headers.setdefault("Content-Type", "application/json")
        started = self.clock.now()
        try:
            async with self._session.request(
                request.method, url, data=data, headers=headers
            ) as response:
                body = await response.read()
                return response.status, body, self.clock.now() - started, ""
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return 0, b"", self.clock.now() - started, f"{type(exc).__name__}: {exc}"

    async def check_health(self) -> None:
        spec = self.target.health
        assert spec is not None
        t, phase = self.clock.now(), self.current_phase()
        status, body, seconds, error = await self._request(spec, {})
        degraded: bool | None = None
        rule = spec.degraded
        if status:
            degraded = status in rule.status
            if rule.field is not None:
                try:
                    value = extract(json.loads(body), rule.field)
                except ValueError:
                    value, error = None, "the health answer is not JSON"
                if value is not None:
                    degraded = degraded or any(value == wanted for wanted in rule.equals)
                elif not degraded and error:
                    degraded = None
        self.publish(HealthProbed(t, phase, seconds, status, degraded, error))

    async def scrape(self) -> None:
        spec = self.target.metrics
        assert spec is not None
        t, phase = self.clock.now(), self.current_phase()
        status, body, seconds, error = await self._request(spec, {})
        if status != 200:
            self.publish(MetricsScraped(t, phase, seconds, status, detail=error))
            return
        try:
            reading = read_metrics(body.decode("utf-8", errors="replace"), spec)
        except ValueError as exc:
            text = f"not the Prometheus text format: {exc}"
            self.publish(MetricsScraped(t, phase, seconds, status, detail=text))
            return
        self.publish(
            MetricsScraped(
                t,
                phase,
                seconds,
                status,
                buckets=reading.buckets,
                count=reading.count,
                total=reading.total,
                tokens_in=reading.tokens_in,
                tokens_out=reading.tokens_out,
                models=reading.models,
                missing=reading.missing,
            )
        )

    async def act(
        self, action: str, request: ProbeRequest, names: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        started, phase = self.clock.now(), self.current_phase()
        status, body, seconds, error = await self._request(request, names or {})
        detail = error or (f"HTTP {status}" if status >= 400 else "")
        self.publish(
            TargetActed(
                self.clock.now(),
                action,
                phase,
                started,
                seconds,
                status,
                item=(names or {}).get("item", ""),
                reference=(names or {}).get("reference", ""),
                detail=detail,
            )
        )
        return status, body

    async def write(self) -> tuple[str, str]:
        """One write; (the item id from its answer or "", the reference in its text)."""
        spec = self.target.write
        assert spec is not None
        reference = self._references[self._written]
        note = NOTES[self._written % len(NOTES)]
        self._written += 1
        text = f"Customer note {reference}: {note}."
        names = {"input": text, "request_id": f"probe-write-{self._written:06d}"}
        status, body = await self.act("write", spec, {**names, "reference": reference})
        item = ""
        if 200 <= status < 300 and self.target.enrichment is not None:
            with contextlib.suppress(ValueError):
                found = extract(json.loads(body), self.target.enrichment.item)
                item = "" if found is None else str(found)
        return item, reference

    async def _probe_write(self) -> None:
        await self.write()

    def _enriched(self, reference: str) -> bool:
        return any(
            200 <= call.status < 300 and reference in call_references(call)
            for call in self.calls_seen()
        )

    async def _wait_enriched(self, reference: str, within: float) -> bool:
        deadline = self.clock.now() + within
        while self.clock.now() < deadline:
            if self._enriched(reference):
                return True
            await asyncio.sleep(0.1)
        return False

    async def _enrichment(self) -> None:
        """Write an item, see it enriched, then ask for its enrichment again."""
        spec = self.target.enrichment
        assert spec is not None
        await asyncio.sleep(1.0)  # after the users' first requests: the run is under way
        item, reference = await self.write()
        if not item:
            return  # the write failed or gave no id: the check says so from the events
        names = {"item": item, "reference": reference}
        if not await self._wait_enriched(reference, 3.0):
            await self.act("enrich", spec, names)  # not enriched by itself: ask once
            if not await self._wait_enriched(reference, 10.0):
                return
        await asyncio.sleep(0.5)  # the target stores what it got
        for _ in range(RETRIGGERS):
            await self.act("re-enrich", spec, names)
            await asyncio.sleep(0.3)

    async def _every(self, interval: float, probe: Callable[[], Coroutine[Any, Any, None]]) -> None:
        while True:
            started = self.clock.now()
            try:
                await probe()
            except Exception:  # a broken probe is logged, the run goes on
                log.exception("probe %s failed", getattr(probe, "__name__", probe))
            await asyncio.sleep(max(0.05, interval - (self.clock.now() - started)))
