"""Toxiproxy API conformance: driven by toxiproxy-python itself, and by raw HTTP for the
statuses and bodies the library does not expose; plus the adapter's answers to its gaps.

Runs against the embedded server, and against a real Toxiproxy when GAPLAB_TOXIPROXY_URL
names one; otherwise the `real` cases are skipped with that reason.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests
import toxiproxy
from toxiproxy.api import APIConsumer, validate_response
from toxiproxy.exceptions import NotFound, ProxyExists

from gaplab.errors import LabError
from gaplab.netfault import EmbeddedToxiproxy, ToxiproxyClient, ToxiproxyError

REAL_URL = os.environ.get("GAPLAB_TOXIPROXY_URL")
UPSTREAM = "127.0.0.1:9"  # never dialled: these tests open no proxied connection


@pytest.fixture(params=["embedded", "real"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "real":
        if not REAL_URL:
            pytest.skip("no real Toxiproxy: set GAPLAB_TOXIPROXY_URL=http://host:8474 to run")
        client = ToxiproxyClient(REAL_URL)
        client.reset()
        yield client.url
        for name in client.proxies():
            if name.startswith("api-"):
                client.delete_proxy(name)
        return
    server = EmbeddedToxiproxy(port=0, seed=1)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def library(url: str) -> Iterator[toxiproxy.Toxiproxy]:
    """toxiproxy-python pointed at the server (its address is global: restored afterwards)."""
    saved = (APIConsumer.host, APIConsumer.port)
    parts = urlsplit(url)
    server = toxiproxy.Toxiproxy()
    server.update_api_consumer(parts.hostname, parts.port)
    yield server
    APIConsumer.host, APIConsumer.port = saved


def test_library_round_trip(library: toxiproxy.Toxiproxy) -> None:
    assert library.running()
    assert b'"version"' in library.version()
    proxy = library.create(upstream=UPSTREAM, name="api-lib")
    host, port = proxy.listen.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0  # port 0 picked a free one
    assert proxy.enabled is True
    with pytest.raises(ProxyExists):
        library.create(upstream=UPSTREAM, name="api-lib")
    proxy.add_toxic(type="latency", attributes={"latency": 100, "jitter": 10})
    proxy.add_toxic(type="bandwidth", stream="upstream", toxicity=0.5, attributes={"rate": 9})
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "bandwidth_upstream"}
    assert toxics["latency_downstream"].attributes == {"latency": 100, "jitter": 10}
    assert toxics["bandwidth_upstream"].toxicity == 0.5
    with proxy.down():
        assert library.get_proxy("api-lib").enabled is False
    assert library.get_proxy("api-lib").enabled is True
    proxy.destroy_toxic("latency_downstream")
    assert set(proxy.toxics()) == {"bandwidth_upstream"}
    with pytest.raises(NotFound):
        proxy.destroy_toxic("latency_downstream")
    assert library.reset()
    assert proxy.toxics() == {}
    assert proxy.destroy()
    assert "api-lib" not in library.proxies()


def _error(response: requests.Response) -> dict[str, object]:
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"upstream": UPSTREAM}, 400, "missing required field: name"),
        ({"name": "api-x"}, 400, "missing required field: upstream"),
    ],
)
def test_create_proxy_errors(url: str, body: dict[str, str], status: int, message: str) -> None:
    response = requests.post(f"{url}/proxies", json=body, timeout=5)
    assert response.status_code == status
    assert _error(response) == {"error": message, "status": status}


def test_status_codes_and_shapes(url: str) -> None:
    created = requests.post(
        f"{url}/proxies", json={"name": "api-s", "upstream": UPSTREAM}, timeout=5
    )
    assert created.status_code == 201
    assert set(created.json()) == {"name", "listen", "upstream", "enabled", "toxics"}
    assert created.json()["toxics"] == []
    dup = requests.post(f"{url}/proxies", json={"name": "api-s", "upstream": UPSTREAM}, timeout=5)
    assert dup.status_code == 409 and _error(dup) == {
        "error": "proxy already exists",
        "status": 409,
    }
    bad = requests.post(f"{url}/proxies", data=b"{nope", timeout=5)
    assert bad.status_code == 400 and str(_error(bad)["error"]).startswith("bad request body")

    toxics = f"{url}/proxies/api-s/toxics"
    added = requests.post(toxics, json={"type": "latency", "attributes": {"latency": 5}}, timeout=5)
    assert added.status_code == 200  # not 201, like Toxiproxy
    assert added.json() == {
        "attributes": {"latency": 5, "jitter": 0},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
    }
    again = requests.post(toxics, json={"type": "latency"}, timeout=5)
    assert again.status_code == 409 and _error(again)["error"] == "toxic already exists"
    wrong_type = requests.post(toxics, json={"type": "gremlins"}, timeout=5)
    assert wrong_type.status_code == 400 and _error(wrong_type)["error"] == "invalid toxic type"
    wrong_stream = requests.post(toxics, json={"type": "latency", "stream": "sideways"}, timeout=5)
    assert wrong_stream.status_code == 400
    assert _error(wrong_stream)["error"] == (
        "stream was invalid, can be either upstream or downstream"
    )

    toxic = f"{toxics}/latency_downstream"
    patched = requests.patch(toxic, json={"attributes": {"jitter": 2}, "toxicity": 0.25}, timeout=5)
    assert patched.status_code == 200
    assert patched.json()["attributes"] == {"latency": 5, "jitter": 2}  # merged
    assert patched.json()["toxicity"] == 0.25
    assert requests.get(toxic, timeout=5).json() == patched.json()
    assert requests.delete(toxic, timeout=5).status_code == 204
    missing = requests.get(toxic, timeout=5)
    assert missing.status_code == 404 and _error(missing) == {
        "error": "toxic not found",
        "status": 404,
    }
    nowhere = requests.get(f"{url}/proxies/api-none", timeout=5)
    assert nowhere.status_code == 404 and _error(nowhere)["error"] == "proxy not found"

    disabled = requests.patch(f"{url}/proxies/api-s", json={"enabled": False}, timeout=5)
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    assert requests.post(f"{url}/reset", timeout=5).status_code == 204
    assert requests.get(f"{url}/proxies/api-s", timeout=5).json()["enabled"] is True
    assert requests.delete(f"{url}/proxies/api-s", timeout=5).status_code == 204
    assert requests.delete(f"{url}/proxies/api-s", timeout=5).status_code == 404


def test_populate(url: str) -> None:
    body = [
        {"name": "api-p1", "upstream": UPSTREAM},
        {"name": "api-p2", "upstream": UPSTREAM, "enabled": False},
    ]
    first = requests.post(f"{url}/populate", json=body, timeout=5)
    assert first.status_code == 201
    proxies = {p["name"]: p for p in first.json()["proxies"]}
    assert proxies["api-p1"]["enabled"] is True and proxies["api-p2"]["enabled"] is False
    # Same upstream and listen: left untouched (same port), not recreated.
    body[0]["listen"] = proxies["api-p1"]["listen"]
    second = requests.post(f"{url}/populate", json=body, timeout=5)
    assert second.status_code == 201
    assert {p["name"]: p for p in second.json()["proxies"]}["api-p1"]["listen"] == (
        proxies["api-p1"]["listen"]
    )
    invalid = requests.post(f"{url}/populate", json=[{"name": "api-p3"}], timeout=5)
    assert invalid.status_code == 400
    assert invalid.json()["error"] == "missing required field: upstream at proxy 1"
    assert "api-p3" not in requests.get(f"{url}/proxies", timeout=5).json()


def test_version_browsers_and_unknown_routes(url: str) -> None:
    version = requests.get(f"{url}/version", timeout=5)
    assert version.status_code == 200 and "version" in version.json()
    browser = requests.get(f"{url}/proxies", headers={"User-Agent": "Mozilla/5.0 (X11)"}, timeout=5)
    assert browser.status_code == 403
    assert requests.get(f"{url}/nothing-here", timeout=5).status_code == 404
    assert requests.delete(f"{url}/version", timeout=5).status_code == 405
    assert requests.get(f"{url}/proxies", timeout=5).headers.get("X-Toxiproxy-Request-Id")


# -- the adapter's answers to the library's gaps --------------------------------------------
def test_adapter_maps_every_failure(url: str) -> None:
    client = ToxiproxyClient(url)
    client.create_proxy("api-a", UPSTREAM)
    with pytest.raises(ToxiproxyError) as exists:
        client.create_proxy("api-a", UPSTREAM)
    assert exists.value.status == 409 and "proxy already exists" in str(exists.value)
    with pytest.raises(ToxiproxyError) as invalid:
        client.add_toxic("api-a", {"type": "gremlins"})
    assert invalid.value.status == 400 and "invalid toxic type" in str(invalid.value)
    toxic = client.add_toxic("api-a", {"type": "timeout", "attributes": {"timeout": 5}})
    assert toxic.attributes == {"timeout": 5}  # the library's add_toxic returns None
    updated = client.update_toxic("api-a", "timeout_downstream", attributes={"timeout": 9})
    assert updated.attributes == {"timeout": 9}
    assert client.get_proxy("api-a").toxics[0].attributes == {"timeout": 9}
    populated = client.populate([{"name": "api-b", "upstream": UPSTREAM}])
    assert [p.name for p in populated] == ["api-b"]
    assert isinstance(exists.value, LabError)


class _Failing(BaseHTTPRequestHandler):
    """Scaffolding: a server that answers 503 with Toxiproxy's error body, like its timeout."""

    def do_GET(self) -> None:
        body = b'{"error":"handler timed out","status":503}\n'
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_statuses_the_library_swallows_are_errors() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        response = validate_response(requests.get(f"{url}/proxies", timeout=5))
        assert response.status_code == 503  # the library let it through
        with pytest.raises(ToxiproxyError) as failed:
            ToxiproxyClient(url).proxies()
        assert failed.value.status == 503
        assert "503 handler timed out" in str(failed.value)
    finally:
        server.shutdown()
        server.server_close()


def test_unreachable_server_is_a_lab_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(ToxiproxyError, match=f"Toxiproxy unreachable at http://127.0.0.1:{port}"):
        ToxiproxyClient(f"http://127.0.0.1:{port}").version()


def test_a_wedged_server_cannot_hang_a_call() -> None:
    # Accepts connections and never answers: the library alone would wait forever.
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()
    client = ToxiproxyClient(f"http://127.0.0.1:{listener.getsockname()[1]}", read_timeout=0.5)
    start = time.perf_counter()
    with pytest.raises(ToxiproxyError, match=r"did not answer GET /version within 0\.5s"):
        client.version()
    assert time.perf_counter() - start < 5
    listener.close()


def test_two_servers_in_one_process() -> None:
    servers = [EmbeddedToxiproxy(port=0, seed=1), EmbeddedToxiproxy(port=0, seed=1)]
    for server in servers:
        server.start()
    try:
        first, second = (ToxiproxyClient(s.url) for s in servers)
        first.create_proxy("only-on-first", UPSTREAM)
        assert "only-on-first" in first.proxies()
        assert second.proxies() == {}
        assert (APIConsumer.host, APIConsumer.port) == ("127.0.0.1", 8474)  # untouched
    finally:
        for server in servers:
            server.stop()
