"""Is the target there at all? A target that is not running is a lab/infrastructure error
(exit 3) with its address, never a target that scores 0 %.

- Before the timeline, an unmanaged target (no `start:` in its target file) gets one TCP
  connection attempt (`check_reachable`).
- Up to the end of the baseline phase, a phase in which every exchange failed to connect
  (`refused_everything`) ends the run: the target died, or was never the one at that port.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from gaplab.errors import LabError
from gaplab.load.client import Connections

REACH_TIMEOUT = 5.0  # seconds for the first connection to an unmanaged target
_WHY = "the target file has no `start:`, so the lab expects the target to be running already"


async def check_reachable(base_url: str) -> None:
    """One TCP connection to `base_url`; `LabError` naming it when none can be made."""
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(REACH_TIMEOUT):
            _, writer = await asyncio.open_connection(host, port)
    except ConnectionRefusedError:
        raise LabError(
            f"the target at {base_url} refused the connection: is it running?", [_WHY]
        ) from None
    except TimeoutError:
        raise LabError(
            f"the target at {base_url} did not accept a connection within {REACH_TIMEOUT:g} s: "
            "is it running?",
            [_WHY],
        ) from None
    except OSError as exc:
        raise LabError(
            f"the target at {base_url} could not be reached ({exc}): is it running?", [_WHY]
        ) from None
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def refused_everything(seen: Connections, base_url: str) -> LabError | None:
    """The error for a baseline phase in which every exchange failed to connect, else None."""
    if not seen.finished or seen.failed < seen.finished:
        return None
    where = f"the target at {base_url}"
    if seen.refused == seen.failed:
        message = f"{where} refused every connection during the baseline: is it running?"
    else:
        message = f"every connection to {where} failed during the baseline: is it running?"
    return LabError(message, [f"{seen.failed} of {seen.finished} requests: {seen.last_failure}"])
