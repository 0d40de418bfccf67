"""The event loop and garbage-collector settings of the processes gaplab starts itself.

**uvloop.** The mock provider writes one socket chunk per streamed token: a thousand
streams at 50 tokens/s is 50,000 writes a second, and with the standard loop the Python
half of each `transport.write` costs as much as the system call. On uvloop (libuv, the
transport written in C) the provider's p99 chunk lateness at 1,000 streams, measured when
each write happens, fell from 280-320 ms to 26-30 ms in most runs on the 2-core benchmark
machine (`python bench/provider.py --only streams`; GAPLAB_EVENT_LOOP=asyncio for the
other figure). The embedded proxy's thread makes its loop here too
(`gaplab.netfault.server`): its CPU per proxied request fell from about 90 to 74 us
(`bench/proxy.py`). So `lab provider serve` (and its stream workers), `lab proxy serve`,
the `mock_llm` fixture and the proxy thread use it where it is installed (a dependency
everywhere but Windows); `GAPLAB_EVENT_LOOP=asyncio` opts out, e.g. to rule it out when
chasing a bug.

`lab run`'s own loop stays the standard one: it carries the load generator, whose aiohttp
client did 10-25 % fewer requests a second on uvloop in A/B rounds against the same
server (medians 2,575 vs 3,378 req/s at 100 users), and that client is what saturates
first when the target is fast.

**gc.freeze.** CPython's full collections walk every tracked object; right after start-up
most of them are modules, classes and functions that will never be garbage. Freezing them
once the process is up (Instagram's well-known recipe) takes them out of every later scan:
a full collection during the 1,000-stream benchmark went from about 110 ms to about 60 ms.

**Open files.** A provider with a thousand open streams holds a thousand sockets (and,
briefly, a duplicate of each it hands to a stream worker), and many systems start
processes with a soft limit of 1,024 open files. `lab provider serve` and its workers lift
their soft limit towards the hard one at start-up, as servers commonly do.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

ENV_LOOP = "GAPLAB_EVENT_LOOP"


def uvloop_enabled() -> bool:
    """True when the loops made here are uvloop's (installed, and not opted out)."""
    if os.environ.get(ENV_LOOP, "").strip().lower() == "asyncio":
        return False
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A fresh event loop: uvloop's when enabled, else the standard one."""
    if uvloop_enabled():
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on the loop `new_event_loop` picks."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)


def freeze_startup_objects() -> None:
    """Collect once, then move every object alive now out of the collector's later scans.
    Call when a long-running process has finished starting up."""
    gc.collect()
    gc.freeze()


def raise_open_file_limit(wanted: int = 65_536) -> int:
    """Lift this process's soft limit on open files to `wanted`, or to the hard limit if
    that is lower. Returns the soft limit now in force (-1 where there is none to set)."""
    try:
        import resource
    except ImportError:  # Windows
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
