"""The Locust workers' share and health in the live screen's target panel (`--load
locust` only; with the built-in load there are no rows): one `workers` row with each
worker's share, users and state, and one row per worker lost mid-run."""

from __future__ import annotations

from gaplab.metrics.snapshot import Snapshot

SHOWN = 6  # workers named one by one; past this the row counts them by state


def worker_rows(snapshot: Snapshot, *, compact: bool = False) -> list[tuple[str, str, str]]:
    """(label, value, style) rows for `TargetPanel`: style "alarm" past the allowance,
    "warn" for a late worker or one lost within it."""
    latest = snapshot.workers
    if latest is None:
        return []
    shares = latest.workers
    if len(shares) <= SHOWN:
        cells = [
            f"w{w.worker} {w.share:.0%} {w.state}"
            if compact
            else f"w{w.worker} {w.share:.0%} · {w.users} users · {w.state}"
            for w in shares
        ]
        value = (" " if compact else "  ").join(cells) or "none reported"
    else:
        states = {s: sum(1 for w in shares if w.state == s) for s in ("ok", "late", "lost")}
        value = f"{len(shares)}: " + ", ".join(f"{n} {s}" for s, n in states.items() if n)
    past = any(not e.allowed for e in snapshot.workers_lost)
    uneasy = snapshot.workers_lost or any(w.state == "late" for w in shares)
    rows = [("workers", value, "alarm" if past else "warn" if uneasy else "")]
    for lost in snapshot.workers_lost:
        rows.append(("lost", lost.describe(), "warn" if lost.allowed else "alarm"))
    return rows
