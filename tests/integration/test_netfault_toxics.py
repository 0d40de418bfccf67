"""Each toxic with real sockets, for what it promises (Toxiproxy's semantics).

Runs against the embedded server, and against a real Toxiproxy when GAPLAB_TOXIPROXY_URL
names one (it must reach this machine's 127.0.0.1). Upstreams are plain threaded socket
servers; timing margins are wide so a busy 2-core machine cannot flip a result.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from gaplab.netfault import EmbeddedToxiproxy, ProxyInfo, ToxiproxyClient

REAL_URL = os.environ.get("GAPLAB_TOXIPROXY_URL")


class Upstream:
    """A loopback TCP server running `handler(conn)` per connection on a thread."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.errors: list[BaseException] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except OSError as exc:  # resets are expected in some tests
            self.errors.append(exc)
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


def echo(conn: socket.socket) -> None:
    while data := conn.recv(65536):
        conn.sendall(data)


def talker(payload: bytes, pause: float = 0.0) -> Callable[[socket.socket], None]:
    """Sends `payload` (after `pause`) then closes."""

    def handle(conn: socket.socket) -> None:
        time.sleep(pause)
        conn.sendall(payload)

    return handle


@pytest.fixture(params=["embedded", "embedded-asyncio", "real"])
def api(request: pytest.FixtureRequest) -> Iterator[ToxiproxyClient]:
    if request.param == "real":
        if not REAL_URL:
            pytest.skip("no real Toxiproxy: set GAPLAB_TOXIPROXY_URL=http://host:8474 to run")
        client = ToxiproxyClient(REAL_URL)
        yield client
        client.reset()
        for name in client.proxies():
            if name.startswith("t-"):
                client.delete_proxy(name)
        return
    # "embedded" runs on the loop lab runs use (uvloop when installed), "embedded-asyncio"
    # on the standard loop: the data path must keep every promise on both.
    factory = asyncio.new_event_loop if request.param == "embedded-asyncio" else None
    server = (
        EmbeddedToxiproxy(port=0, seed=7, loop_factory=factory)
        if factory is not None
        else EmbeddedToxiproxy(port=0, seed=7)
    )
    server.start()
    try:
        yield ToxiproxyClient(server.url)
    finally:
        server.stop()


_names = iter(range(1_000_000))


def make_proxy(api: ToxiproxyClient, upstream: Upstream) -> ProxyInfo:
    return api.create_proxy(f"t-{os.getpid()}-{next(_names)}", f"127.0.0.1:{upstream.port}")


def connect(proxy: ProxyInfo, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(proxy.listen_address, timeout=timeout)
    sock.settimeout(timeout)
    return sock


def roundtrip(sock: socket.socket, data: bytes = b"ping") -> tuple[bytes, float]:
    start = time.perf_counter()
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got, time.perf_counter() - start


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.fixture
def echo_upstream() -> Iterator[Upstream]:
    upstream = Upstream(echo)
    yield upstream
    upstream.close()


def test_no_toxic_passes_bytes_through(api: ToxiproxyClient, echo_upstream: Upstream) -> None:
    proxy = make_proxy(api, echo_upstream)
    with connect(proxy) as sock:
        payload = os.urandom(300_000)
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        got = b""
        while len(got) < len(payload):
            got += sock.recv(65536)
        sender.join()
    assert got == payload


def test_latency_delays_each_chunk_not_cumulatively(api: ToxiproxyClient) -> None:
    # Five chunks 100 ms apart through 300 ms of latency: each is ~300 ms late, so the last
    # arrives near 0.4 + 0.3 s, not 5 x 0.3 s (Toxiproxy measures from when it read a chunk).
    def streamer(conn: socket.socket) -> None:
        for _ in range(5):
            conn.sendall(b"x" * 10)
            time.sleep(0.1)

    upstream = Upstream(streamer)
    proxy = make_proxy(api, upstream)
    api.add_toxic(proxy.name, {"type": "latency", "attributes": {"latency": 300}})
    start = time.perf_counter()
    with connect(proxy) as sock:
        first = sock.recv(100)
        first_at = time.perf_counter() - start
        rest = read_all(sock)
        last_at = time.perf_counter() - start
    assert first and len(first) + len(rest) == 50
    assert 0.28 <= first_at <= 1.2
    assert 0.65 <= last_at <= 1.4


def test_latency_with_jitter_stays_in_its_band(
    api: ToxiproxyClient, echo_upstream: Upstream
) -> None:
    proxy = make_proxy(api, echo_upstream)
    api.add_toxic(proxy.name, {"type": "latency", "attributes": {"latency": 200, "jitter": 100}})
    with connect(proxy) as sock:
        times = [roundtrip(sock)[1] for _ in range(8)]
    assert min(times) >= 0.09
    assert max(times) <= 1.0
    assert max(times) - min(times) > 0.01  # the jitter is drawn per chunk


def test_bandwidth_limits_throughput(api: ToxiproxyClient) -> None:
    upstream = Upstream(talker(b"b" * 100_000))
    proxy = make_proxy(api, upstream)
    api.add_toxic(proxy.name, {"type": "bandwidth", "attributes": {"rate": 100}})  # KB/s
    start = time.perf_counter()
    with connect(proxy, timeout=10) as sock:
        data = read_all(sock)
    elapsed = time.perf_counter() - start
    assert len(data) == 100_000
    assert 0.85 <= elapsed <= 4.0  # 100 kB at 100 KB/s is one second


def test_slow_close_delays_only_the_close(api: ToxiproxyClient) -> None:
    upstream = Upstream(talker(b"bye"))
    proxy = make_proxy(api, upstream)
    api.add_toxic(proxy.name, {"type": "slow_close", "attributes": {"delay": 600}})
    start = time.perf_counter()
    with connect(proxy) as sock:
        data = sock.recv(10)
        data_at = time.perf_counter() - start
        assert sock.recv(10) == b""
        closed_at = time.perf_counter() - start
    assert data == b"bye"
    assert data_at < 0.4
    assert 0.55 <= closed_at <= 2.0


def test_timeout_zero_holds_until_the_toxic_is_removed(
    api: ToxiproxyClient, echo_upstream: Upstream
) -> None:
    proxy = make_proxy(api, echo_upstream)
    api.add_toxic(proxy.name, {"type": "timeout", "attributes": {"timeout": 0}})
    with connect(proxy) as sock:
        sock.sendall(b"anyone?")
        sock.settimeout(0.8)
        with pytest.raises(TimeoutError):
            sock.recv(10)  # swallowed, and the connection stays open
        api.remove_toxic(proxy.name, "timeout_downstream")
        sock.settimeout(5)
        assert sock.recv(10) == b""  # removing a timeout toxic closes its connections


def test_timeout_closes_after_its_timeout(api: ToxiproxyClient, echo_upstream: Upstream) -> None:
    proxy = make_proxy(api, echo_upstream)
    api.add_toxic(proxy.name, {"type": "timeout", "attributes": {"timeout": 400}})
    start = time.perf_counter()
    with connect(proxy) as sock:
        sock.sendall(b"hello")
        assert sock.recv(10) == b""
    assert 0.35 <= time.perf_counter() - start <= 2.0


def test_reset_peer_is_a_reset_for_the_client(
    api: ToxiproxyClient, echo_upstream: Upstream
) -> None:
    proxy = make_proxy(api, echo_upstream)
    api.add_toxic(proxy.name, {"type": "reset_peer", "attributes": {"timeout": 0}})
    with connect(proxy) as sock:
        sock.sendall(b"hello")
        with pytest.raises(ConnectionResetError):
            sock.recv(10)


def test_reset_peer_waits_for_data_then_its_timeout(
    api: ToxiproxyClient, echo_upstream: Upstream
) -> None:
    proxy = make_proxy(api, echo_upstream)
    api.add_toxic(proxy.name, {"type": "reset_peer", "attributes": {"timeout": 400}})
    with connect(proxy) as sock:
        time.sleep(0.6)  # idle: nothing to reset yet
        start = time.perf_counter()
        sock.sendall(b"hello")
        with pytest.raises(ConnectionResetError):
            sock.recv(10)
        assert 0.35 <= time.perf_counter() - start <= 2.0


def test_slicer_sends_pieces_with_its_delay(api: ToxiproxyClient) -> None:
    upstream = Upstream(talker(bytes(range(200))))
    proxy = make_proxy(api, upstream)
    api.add_toxic(
        proxy.name,
        {
            "type": "slicer",
            "attributes": {"average_size": 50, "size_variation": 0, "delay": 150_000},
        },
    )
    sizes, data = [], b""
    with connect(proxy) as sock:
        while chunk := sock.recv(65536):
            sizes.append(len(chunk))
            data += chunk
    assert data == bytes(range(200))
    assert sizes == [50, 50, 50, 50]  # 150 ms apart: too far for TCP to coalesce


def test_limit_data_cuts_at_the_limit(api: ToxiproxyClient) -> None:
    upstream = Upstream(talker(b"z" * 5000))
    proxy = make_proxy(api, upstream)
    api.add_toxic(proxy.name, {"type": "limit_data", "attributes": {"bytes": 1234}})
    with connect(proxy) as sock:
        assert len(read_all(sock)) == 1234


def test_disabled_proxy_refuses_then_comes_back(
    api: ToxiproxyClient, echo_upstream: Upstream
) -> None:
    proxy = make_proxy(api, echo_upstream)
    held = connect(proxy)
    api.update_proxy(proxy.name, enabled=False)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(proxy.listen_address, timeout=2)
    assert held.recv(10) == b""  # open connections are dropped too
    held.close()
    again = api.update_proxy(proxy.name, enabled=True)
    assert again.listen == proxy.listen
    with connect(proxy) as sock:
        assert roundtrip(sock)[0] == b"ping"


def test_toxics_reach_existing_connections(api: ToxiproxyClient, echo_upstream: Upstream) -> None:
    proxy = make_proxy(api, echo_upstream)
    with connect(proxy) as sock:
        assert roundtrip(sock)[1] < 0.2
        api.add_toxic(proxy.name, {"type": "latency", "attributes": {"latency": 600}})
        got, slow = roundtrip(sock)
        assert got == b"ping" and slow >= 0.55
        api.update_toxic(proxy.name, "latency_downstream", attributes={"latency": 250})
        assert 0.23 <= roundtrip(sock)[1] < 0.55
        api.remove_toxic(proxy.name, "latency_downstream")
        assert roundtrip(sock)[1] < 0.2


def test_upstream_toxic_delays_requests(api: ToxiproxyClient, echo_upstream: Upstream) -> None:
    proxy = make_proxy(api, echo_upstream)
    api.add_toxic(
        proxy.name, {"type": "latency", "stream": "upstream", "attributes": {"latency": 300}}
    )
    with connect(proxy) as sock:
        assert roundtrip(sock)[1] >= 0.28


def _affected(api: ToxiproxyClient, proxy: ProxyInfo, connections: int) -> list[bool]:
    pattern = []
    for _ in range(connections):
        with connect(proxy) as sock:
            sock.sendall(b"hello")
            pattern.append(read_all_until(sock, 5) == b"h")
    return pattern


def read_all_until(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := sock.recv(size)):
        data += chunk
    return data


def test_toxicity_is_drawn_per_connection(api: ToxiproxyClient, echo_upstream: Upstream) -> None:
    proxy = make_proxy(api, echo_upstream)
    api.add_toxic(proxy.name, {"type": "limit_data", "toxicity": 0.3, "attributes": {"bytes": 1}})
    pattern = _affected(api, proxy, 200)
    # Binomial(200, 0.3): mean 60, sd 6.5; 30..90 is more than four sd either side.
    assert 30 <= sum(pattern) <= 90


def test_same_seed_same_draws() -> None:
    upstream = Upstream(echo)
    patterns = []
    for seed in (11, 11, 12):
        server = EmbeddedToxiproxy(port=0, seed=seed)
        server.start()
        try:
            api = ToxiproxyClient(server.url)
            proxy = api.create_proxy("seeded", f"127.0.0.1:{upstream.port}")
            api.add_toxic(
                proxy.name, {"type": "limit_data", "toxicity": 0.5, "attributes": {"bytes": 1}}
            )
            patterns.append(_affected(api, proxy, 40))
        finally:
            server.stop()
    upstream.close()
    assert patterns[0] == patterns[1]
    assert patterns[0] != patterns[2]
    assert 0 < sum(patterns[0]) < 40
