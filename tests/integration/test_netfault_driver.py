"""`NetworkFaults`, the engine's entry point: routes, phase faults as toxics, close.

Real loopback sockets throughout: an asyncio echo upstream, the embedded server on its own
thread, and (when GAPLAB_TOXIPROXY_URL is set) a real Toxiproxy through the same code.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import AsyncIterator

import pytest

from gaplab.errors import LabError
from gaplab.netfault import NetworkFault, NetworkFaults, ToxiproxyClient
from gaplab.netfault.driver import desired_toxics

REAL_URL = os.environ.get("GAPLAB_TOXIPROXY_URL")


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


@pytest.fixture
async def upstream_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


@pytest.fixture(params=["embedded", "real"])
async def faults(request: pytest.FixtureRequest) -> AsyncIterator[NetworkFaults]:
    if request.param == "real" and not REAL_URL:
        pytest.skip("no real Toxiproxy: set GAPLAB_TOXIPROXY_URL=http://host:8474 to run")
    network = NetworkFaults(toxiproxy_url=REAL_URL if request.param == "real" else None, seed=3)
    await network.start()
    yield network
    await network.close()


async def _roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
    start = time.perf_counter()
    writer.write(b"ping")
    assert await asyncio.wait_for(reader.readexactly(4), 10) == b"ping"
    return time.perf_counter() - start


async def test_route_apply_clear(faults: NetworkFaults, upstream_port: int) -> None:
    host, port = await faults.route("provider", "127.0.0.1", upstream_port)
    reader, writer = await asyncio.open_connection(host, port)
    assert await _roundtrip(reader, writer) < 0.2

    await faults.apply([NetworkFault(toxic="latency", latency=0.6)])
    assert await _roundtrip(reader, writer) >= 0.55  # the live connection picked it up

    await faults.apply([NetworkFault(toxic="latency", latency=0.25)])  # updated in place
    assert 0.23 <= await _roundtrip(reader, writer) < 0.55

    await faults.clear()
    assert await _roundtrip(reader, writer) < 0.2
    writer.close()


async def test_down_refuses_then_recovers(faults: NetworkFaults, upstream_port: int) -> None:
    host, port = await faults.route("provider", "127.0.0.1", upstream_port)
    await faults.apply([NetworkFault(down=True)])
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(host, port)
    await faults.apply([])
    reader, writer = await asyncio.open_connection(host, port)
    assert await _roundtrip(reader, writer) < 1
    writer.close()


async def test_apply_replaces_the_set(faults: NetworkFaults, upstream_port: int) -> None:
    await faults.route("provider", "127.0.0.1", upstream_port)
    client = ToxiproxyClient(faults.api_url)
    (name,) = faults._proxies.values()
    await faults.apply(
        [NetworkFault(toxic="latency", latency=1.0, jitter=0.2), NetworkFault(toxic="slicer")]
    )
    toxics = {t.name: t for t in await asyncio.to_thread(client.toxics, name)}
    assert set(toxics) == {"latency_downstream", "slicer_downstream"}
    assert toxics["latency_downstream"].attributes == {"latency": 1000, "jitter": 200}
    await faults.apply([NetworkFault(toxic="latency", latency=0.5)])
    toxics = {t.name: t for t in await asyncio.to_thread(client.toxics, name)}
    assert set(toxics) == {"latency_downstream"}
    assert toxics["latency_downstream"].attributes == {"latency": 500, "jitter": 0}


async def test_close_stops_the_embedded_server(upstream_port: int) -> None:
    network = NetworkFaults(seed=1)
    await network.start()
    await network.route("provider", "127.0.0.1", upstream_port)
    threads = {t.name for t in threading.enumerate()}
    assert "gaplab-netfault" in threads
    await asyncio.wait_for(network.close(), 10)
    assert not any(t.name == "gaplab-netfault" and t.is_alive() for t in threading.enumerate())
    with pytest.raises(LabError, match="unreachable"):
        await asyncio.to_thread(ToxiproxyClient(network.api_url, read_timeout=1).version)


async def test_close_removes_proxies_on_a_shared_server(upstream_port: int) -> None:
    # Another process's server stands in for a real Toxiproxy: it must outlive the run clean.
    from gaplab.netfault import EmbeddedToxiproxy

    shared = EmbeddedToxiproxy(port=0)
    shared.start()
    try:
        network = NetworkFaults(toxiproxy_url=shared.url)
        await network.start()
        await network.route("provider", "127.0.0.1", upstream_port)
        client = ToxiproxyClient(shared.url)
        (name,) = await asyncio.to_thread(client.proxies)
        assert name.startswith("gaplab-provider-")
        await network.close()
        assert await asyncio.to_thread(client.proxies) == {}
    finally:
        shared.stop()


async def test_unreachable_toxiproxy_is_a_lab_error() -> None:
    network = NetworkFaults(toxiproxy_url="http://127.0.0.1:9")
    with pytest.raises(LabError, match=r"Toxiproxy unreachable at http://127\.0\.0\.1:9"):
        await network.start()


def test_fault_units_and_names() -> None:
    slicer = NetworkFault(toxic="slicer", average_size=64, delay="2ms")
    assert slicer.to_toxic()["attributes"] == {"average_size": 64, "delay": 2000}  # µs
    toxics = desired_toxics(
        [
            NetworkFault(toxic="latency", latency="200ms"),
            NetworkFault(toxic="latency", latency="1s"),
            NetworkFault(down=True),
        ]
    )
    assert list(toxics) == ["latency_downstream", "latency_downstream_2"]
    assert toxics["latency_downstream_2"]["attributes"] == {"latency": 1000}


@pytest.mark.parametrize(
    ("fault", "seconds"),
    [
        (NetworkFault(toxic="timeout"), math.inf),
        (NetworkFault(toxic="timeout", timeout=0), math.inf),
        (NetworkFault(toxic="timeout", timeout="2s"), 0.0),
        (NetworkFault(toxic="latency", latency="1.5s", jitter="500ms"), 2.0),
        (NetworkFault(toxic="bandwidth", rate=2), 0.0),
        (NetworkFault(toxic="reset_peer"), 0.0),
        (NetworkFault(down=True), 0.0),
    ],
)
def test_slowness(fault: NetworkFault, seconds: float) -> None:
    assert fault.slowness == seconds
