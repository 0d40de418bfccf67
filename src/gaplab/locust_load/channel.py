"""The wire between the lab and its Locust processes: one TCP connection per Locust
process, newline-delimited JSON (orjson) both ways.

Locust -> lab: `{"worker": w, "events": [...]}`, a batch of finished requests of worker `w`
(`UserRequestFinished`,
as the journal writes them; each worker sends a batch every `FLUSH` seconds, or sooner
once it holds `BATCH` of them), `{"hello": {"worker": i, "pid": p}}` first, `{"bye": {...}}`
last, after the requests still in flight at the stop that had outlasted the SLA. Under open
arrivals, with the batches: `{"worker": w, "arrivals": counts, "dropped": {phase: n},
"slips": [...]}` (`gaplab.locust_load.arrival_share.arrivals_report`). Each event of a
batch also carries `lessons` (the last lesson its worker had applied) and, for an answer
not found unsafe, its `body` (gaplab.locust_load.lessons). `{"beat": {...}}` about twice a
second from every process that runs users (its users, requests in flight, pid, host);
from the master `{"workers_ready": [...]}`, `{"worker_ready": {...}}` and
`{"workers_lost": [...]}`.

Lab -> Locust: `{"users": n}` (closed users at a phase edge), `{"phase": name}`,
`{"arrive": origin}` (open arrivals: the timeline started at `origin`, run clock),
`{"learn": [prompt, keys, emitted], "lesson": n}` (what the lab's unsafe detector learned
from a provider call, `UnsafeDetector.lesson`, numbered), `{"stop": sla}`.

Plain JSON lines rather than Locust's own worker messages: the lab is not a Locust
process (no gevent in it), and one socket per process keeps the lab the single place
that numbers and times the events. Measured in bench/locust.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from gaplab.engine.events import Event, UserRequestFinished, event_from_dict

FLUSH = 0.05  # seconds a finished request may wait in a worker before it is sent
BATCH = 200  # events per message at most
BEAT = 0.5  # seconds between a worker's reports of its users and requests in flight


def encode(message: dict[str, Any]) -> bytes:
    return orjson.dumps(message) + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    value = orjson.loads(line)
    if not isinstance(value, dict):
        raise ValueError(f"not a message: {line[:80]!r}")
    return value


def events_message(events: Iterable[UserRequestFinished]) -> bytes:
    return encode({"events": [e.to_dict() for e in events]})


def events_of(message: dict[str, Any]) -> Iterator[Event]:
    for data in message.get("events", ()):
        yield event_from_dict(data)
