"""One AI request from a Locust process, as the built-in client sends it
(`gaplab.load.client.RequestClient.ask`): the same template, correlation header and
classification, and for a streamed answer (`response.stream` in the target file) the
same reading (`gaplab.load.stream.StreamAssembler`: time to first byte, pieces, events,
cut / stalled / error event), so the `UserRequestFinished` it sends the lab is the one
the built-in would publish. Both the closed user (`gaplab.locust_load.user`) and the open
arrivals (`gaplab.locust_load.arrive`) send through `Asker.ask`, on Locust's fast HTTP
client, which fires Locust's request events (its own statistics count every request).

Runs under gevent only. Reading the stream as it arrives needs geventhttpclient's
response object beneath Locust's (`FastResponse._response`): its own `read(n)` waits for
n bytes, where a user sees each event as it comes, and Locust's `iter_content` takes a
connection closed mid-answer for its end, where the built-in reports a cut.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import gevent
from geventhttpclient.response import HTTPConnectionClosed, HTTPParseError
from multidict import CIMultiDict

from gaplab.load.client import InFlight, request_names, request_templates
from gaplab.load.inputs import UserInput
from gaplab.load.stream import StreamAssembler, StreamRead, is_stream_answer
from gaplab.locust_load.link import Sink
from gaplab.locust_load.plan import LocustPlan
from gaplab.scenario.target_models import StreamSpec
from gaplab.target.classify import Verdict, classify, classify_stream


class Asker:
    """Sends the scenario's AI request for a user and judges the answer; `ask` returns
    once the finished request is in the process's `Sink` (bound for the lab)."""

    def __init__(self, plan: LocustPlan, link: Sink) -> None:
        self._target = plan.target_file()
        self._templates = request_templates(self._target, plan.names)
        self._patience = plan.load_spec().patience
        self._link = link

    def ask(
        self,
        client: Any,  # locust.contrib.fasthttp.FastHttpSession
        user: str,
        request_id: str,
        given: UserInput,
        opted_out: bool,
    ) -> None:
        names = request_names(user, request_id, given)
        template, opt_out = self._templates
        chosen = opt_out if opted_out else template
        spec, response_spec = self._target.request, self._target.response
        stream_spec = response_spec.stream
        headers = chosen.headers(names)
        headers[spec.correlation_header] = request_id
        link = self._link
        started = link.now()
        flight = InFlight(request_id, user, link.phase, started, "ai", given, opted_out)
        link.in_flight[request_id] = flight
        url = chosen.url(names)
        name = urlsplit(url).path or "/"  # Locust's statistics: one row per endpoint
        # The user's patience bounds the whole exchange, as the built-in's total timeout.
        patience = gevent.Timeout(self._patience)
        patience.start()
        streamed: StreamRead | None = None
        # What the answer was judged on, when not unsafe: the lab judges it again if a
        # lesson reached this process too late (gaplab.locust_load.lessons).
        body: str | None = None
        shown: str | None = None
        try:
            response = client.request(
                spec.method,
                url,
                name=name,
                data=chosen.body_bytes(names),
                headers=headers,
                stream=stream_spec is not None,
            )
            if not patience.pending:  # it fired: Locust took it for a failed request
                raise patience
            status = response.status_code or 0
            error = getattr(response, "error", None)
            answer_headers = CIMultiDict(response.headers.items() if response.headers else ())
            if status == 0 and error is not None:
                verdict = _failure(error, self._patience)
            elif stream_spec is not None and is_stream_answer(
                status, answer_headers.get("content-type", "").split(";")[0].strip(), stream_spec
            ):
                streamed = read_streamed(response, stream_spec, link, started, patience)
                verdict = classify_stream(
                    streamed,
                    answer_headers,
                    response_spec,
                    self._patience,
                    link.detector,
                    given,
                    request_id,
                )
                if verdict.outcome != "unsafe" and streamed.answer:
                    shown = streamed.answer
            else:
                payload = response.content or b""
                verdict = classify(
                    status,
                    payload,
                    answer_headers,
                    response_spec,
                    link.detector,
                    given,
                    request_id,
                )
                if verdict.outcome != "unsafe" and payload:
                    body = payload.decode("utf-8", errors="replace")
        except gevent.Timeout as fired:
            if fired is not patience:
                raise
            status, verdict = 0, Verdict("error", f"no answer within {self._patience:g}s")
        finally:
            patience.close()
            link.in_flight.pop(request_id, None)
        link.send(flight.finished(link.now(), verdict, status, streamed), body, shown)


def read_streamed(
    response: Any, spec: StreamSpec, link: Sink, started: float, patience: gevent.Timeout
) -> StreamRead:
    """Read a streamed body as it arrives, until its end or until `patience` fires (the
    user's, started with the request, as the built-in's total timeout): a stalled stream.
    Never raises for a broken or stalled stream."""
    assembler = StreamAssembler(spec, started)
    read = assembler.read
    raw = response._response
    try:
        for data in _arriving(raw, _close_delimited(response)):
            if assembler.feed(data, link.now()):
                break
        else:
            assembler.body_ended()
    except gevent.Timeout as fired:
        if fired is not patience:
            raise
        read.end = "stalled"
    except (HTTPConnectionClosed, HTTPParseError, OSError):
        read.end = "cut"
    finally:
        _discard_unless_complete(raw)
    return read


def _arriving(raw: Any, close_delimited: bool) -> Iterator[bytes]:
    """The body's bytes as they come off the socket (not in fixed-size reads)."""
    buffer = raw._body_buffer
    while True:
        if buffer:
            data = bytes(buffer)
            del buffer[:]
            yield data
            continue
        if raw.message_complete or raw._sock is None:
            return
        data = raw._sock.recv(raw.block_size)
        if not data:
            if close_delimited:
                return  # such a body ends with its connection
            raise HTTPConnectionClosed("connection closed before the answer's end")
        raw.feed(data)


def _close_delimited(response: Any) -> bool:
    headers = response.headers or {}
    return "content-length" not in headers and "chunked" not in str(
        headers.get("transfer-encoding", "")
    )


def _discard_unless_complete(raw: Any) -> None:
    """A connection left mid-answer cannot serve another request: close it rather than
    return it to the pool (geventhttpclient's response does the same when collected)."""
    sock, pool = raw._sock, getattr(raw, "_pool", None)
    if sock is None or raw.message_complete:
        return
    raw._sock = None
    if pool is not None:
        pool.release_socket(sock)
    else:
        sock.close()


def _failure(error: BaseException, patience: float) -> Verdict:
    """What the built-in client says for a request that got no answer."""
    if isinstance(error, TimeoutError) or "timeout" in type(error).__name__.lower():
        return Verdict("error", f"no answer within {patience:g}s")
    return Verdict("error", f"{error.__class__.__name__}: {error}"[:200])
