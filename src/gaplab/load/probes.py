"""Probes of the target's non-AI endpoints: one loop per endpoint, every `non_ai_interval`,
to see whether AI trouble spills over to the rest of the application. They run the same
way under closed users and open arrivals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from gaplab.load.client import InFlight, RequestClient, judge_non_ai
from gaplab.scenario.target_models import EndpointCall
from gaplab.target.template import render


async def probe(
    client: RequestClient,
    endpoint: EndpointCall,
    base_url: str,
    names: dict[str, str],
    interval: float,
    current_phase: Callable[[], str],
) -> None:
    """Poll one non-AI endpoint until cancelled."""
    path = render(endpoint.path, names)
    url = base_url + path
    headers = dict(render(endpoint.headers, names))
    data = None
    if endpoint.json_body is not None:
        data = json.dumps(render(endpoint.json_body, names))
        headers.setdefault("Content-Type", "application/json")
    sequence = 0
    while True:
        sequence += 1
        request_id = f"probe-{path.strip('/').replace('/', '-')}-{sequence:06d}"
        started = client.clock.now()
        flight = InFlight(request_id, "probe", current_phase(), started, endpoint.label)
        now = await client.exchange(flight, endpoint.method, url, headers, data, judge_non_ai)
        await asyncio.sleep(max(0.0, interval - (now - started)))
