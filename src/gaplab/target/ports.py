"""A port for a process the lab starts (a target, a Locust master), chosen by the lab and
bound by that process a moment later.

Asking the kernel for port 0 hands out a port from the *ephemeral* range
(`net.ipv4.ip_local_port_range`, 32768-60999 on Linux), the same range every outgoing
connection takes its local port from; between the lab closing its probe socket and the
target binding, any connection on the machine (the lab's own load: thousands of them) may
take that port, and the target then fails with "address already in use" (seen with
scenarios side by side in a suite). So the lab picks a random port *below* the ephemeral
range, where no outgoing connection lands, and checks that it can bind it. Random from the
system's entropy, not `random`: labs started together with the same scenario seed must not
pick the same ports.
"""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

PORT_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 15_000  # above the ports services usually claim (5432, 5557, 8080, 8089, 9090...)
TRIES = 50


def ephemeral_range(path: Path = PORT_RANGE_FILE) -> tuple[int, int] | None:
    """The kernel's ephemeral port range, or None where it cannot be read (not Linux)."""
    try:
        low, high = (int(part) for part in path.read_text().split())
    except (OSError, ValueError):
        return None
    return low, high


def can_bind(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", path: Path = PORT_RANGE_FILE) -> int:
    """A port that was free a moment ago and that no outgoing connection will take (the
    process it is for binds it right after). Falls back to the kernel's choice when the
    ephemeral range is unknown or leaves no room below it."""
    span = ephemeral_range(path)
    if span is not None and span[0] - LOWEST > TRIES:
        for _ in range(TRIES):
            port = LOWEST + secrets.randbelow(span[0] - LOWEST)
            if can_bind(host, port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
