"""Keep browsers out of the lab's loopback control APIs (the provider's `/_lab`, the
Toxiproxy-compatible API).

A web page can make the browser send requests to 127.0.0.1, and through DNS rebinding read
the answers too (a name the attacker controls is pointed at 127.0.0.1: the Host header
still carries the attacker's name). So these APIs refuse, with 403, a `Mozilla/` user agent
(every browser sends one; SDKs, curl and toxiproxy clients do not) and a Host header that is
neither a loopback name or address (`localhost`, 127.0.0.0/8, `::1`, with or without a
port) nor one the server was told to accept (the address it is bound to, `--allow-host`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

_WILDCARDS = {"", "0.0.0.0", "::", "*"}


def host_name(host: str) -> str:
    """`[::1]:8474` -> `::1`, `LocalHost.:80` -> `localhost`, `127.0.0.1` -> itself."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def is_loopback(host: str) -> bool:
    name = host_name(host)
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The non-loopback Host names a server accepts: the specific address it is bound to
    (not a wildcard such as 0.0.0.0) and any given explicitly."""
    names = {host_name(name) for name in extra}
    if bind_host.strip() not in _WILDCARDS:
        names.add(host_name(bind_host))
    return frozenset(names - {""})


def refusal(headers: Mapping[str, str], allowed: frozenset[str] = frozenset()) -> str | None:
    """Why a request must be refused (403), or None. A request without a Host header (HTTP
    1.0) is not a browser's."""
    if headers.get("User-Agent", "").startswith("Mozilla/"):
        return "User agent not allowed"
    host = headers.get("Host")
    if host is not None and not is_loopback(host) and host_name(host) not in allowed:
        return "Host not allowed"
    return None
