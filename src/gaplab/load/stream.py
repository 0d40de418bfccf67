"""Reading a streamed answer as a browser would: server-sent events (or chunked text) as
they arrive, until the target's `done` event, its explicit error event, the end of the
connection short of both (cut), or the user's patience running out (stalled).

`read_stream` returns what the user saw: the answer assembled from each event's piece (the
`delta` JSON path of the target file's `response.stream`), the time to the body's first
byte, how the stream ended, how many events came, and the events that carry more than a
piece (a fixed answer marks itself there, `$.degraded`, since its headers went out before
the outcome was known). The classifier judges that like any answer.

SSE is parsed by hand: the lab needs only `event:` and `data:` lines, reads hundreds of
streams at once (bench/load.py --stream), and an SSE client library would add its own task
and reconnection logic per stream, which a user reading one answer never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from gaplab.engine.clock import Clock
from gaplab.scenario.target_models import StreamSpec
from gaplab.target.jsonpath import extract


@dataclass
class StreamRead:
    """What one streamed answer delivered."""

    end: str = "cut"  # gaplab.engine.events.STREAM_ENDS
    pieces: list[str] = field(default_factory=list)
    chunks: int = 0  # events (SSE) or body chunks (text) received
    ttfb: float | None = None
    marked: list[dict[str, Any]] = field(default_factory=list)  # events with more than a piece
    error: str = ""  # the data of the target's error event

    @property
    def answer(self) -> str:
        return "".join(self.pieces)

    @property
    def raw(self) -> str:
        """Everything shown to the user, marks and error text included (for leak checks)."""
        extra = [orjson.dumps(m).decode() for m in self.marked]
        return "\n".join([self.answer, *extra, self.error])


Observer = Callable[[dict[str, Any]], None]


def is_stream(response: aiohttp.ClientResponse, spec: StreamSpec) -> bool:
    """A 200 whose body is the declared stream (an SSE target answering JSON, e.g. a 429
    decided before the stream, is judged as an ordinary answer)."""
    return is_stream_answer(response.status, response.content_type, spec)


def is_stream_answer(status: int, content_type: str, spec: StreamSpec) -> bool:
    """`is_stream` for any client: `content_type` is the media type, without parameters."""
    if status != 200:
        return False
    return spec.format == "text" or content_type.lower() == "text/event-stream"


class StreamAssembler:
    """What a reader does with each piece of a streamed body as it arrives, whatever reads
    the socket: `read_stream` here, the Locust user under gevent
    (`gaplab.locust_load.exchange`), so both record the same `StreamRead`."""

    def __init__(self, spec: StreamSpec, started: float, observe: Observer | None = None) -> None:
        self.read = StreamRead()
        self._started = started
        self._parser = _SseParser(spec, self.read, observe) if spec.format == "sse" else None

    def feed(self, data: bytes, now: float) -> bool:
        """Take a piece of the body received at `now`; True once the answer is over (the
        done event, or the target's error event)."""
        read = self.read
        if read.ttfb is None:
            read.ttfb = now - self._started
        if self._parser is None:
            read.chunks += 1
            read.pieces.append(data.decode("utf-8", errors="replace"))
            return False
        return self._parser.feed(data)

    def body_ended(self) -> None:
        """The body ended whole: a text answer is done; an SSE one without its done event
        stays cut."""
        if self._parser is None:
            self.read.end = "done"


async def read_stream(
    response: aiohttp.ClientResponse,
    spec: StreamSpec,
    clock: Clock,
    started: float,
    observe: Observer | None = None,
) -> StreamRead:
    """Read the body to its end; never raises for a broken or stalled stream."""
    assembler = StreamAssembler(spec, started, observe)
    read = assembler.read
    try:
        async for data in response.content.iter_any():
            if assembler.feed(data, clock.now()):
                return read  # done, or the target's error event: the answer is over
        assembler.body_ended()
    except TimeoutError:
        read.end = "stalled"
    except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError):
        read.end = "cut"
    return read


class _SseParser:
    def __init__(self, spec: StreamSpec, read: StreamRead, observe: Observer | None) -> None:
        self._spec, self._read, self._observe = spec, read, observe
        self._buffer = b""

    def feed(self, data: bytes) -> bool:
        """Take a piece of the body; True once the stream is over."""
        buffer = self._buffer + data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *blocks, self._buffer = buffer.split(b"\n\n")
        return any(self._event(block) for block in blocks if block)

    def _event(self, block: bytes) -> bool:
        name, lines = "message", []
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                lines.append(line[5:].removeprefix(b" "))
            elif line.startswith(b"event:"):
                name = line[6:].strip().decode("utf-8", errors="replace")
        if not lines:
            return False  # a comment or a keep-alive
        read, spec = self._read, self._spec
        read.chunks += 1
        text = b"\n".join(lines).decode("utf-8", errors="replace")
        if name == spec.error_event:
            read.end, read.error = "error_event", text
            return True
        if text == spec.done:
            read.end = "done"
            return True
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError:
            read.pieces.append(text)  # plain-text data
            return False
        if not isinstance(document, dict):
            read.pieces.append(text)
            return False
        piece = extract(document, spec.delta)
        if isinstance(piece, str):
            read.pieces.append(piece)
        if len(document) > 1 or piece is None:
            read.marked.append(document)
        if self._observe is not None:
            self._observe(document)
        return False
