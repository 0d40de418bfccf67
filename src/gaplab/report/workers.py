"""The Locust workers' share and health in the report (`--load locust` only): the
document's `load_workers` part, its one-line form for the console scorecard, Markdown and
HTML, and the live console's short form. With the built-in load there is none of it."""

from __future__ import annotations

from typing import Any

from gaplab.metrics.snapshot import Snapshot

LIVE_EACH = 4  # the live line names each worker up to this many, then counts states


def load_workers(snapshot: Snapshot) -> dict[str, Any] | None:
    """The report's `load_workers` (schema in docs/report-json.md), or None."""
    latest, lost = snapshot.workers, snapshot.workers_lost
    if latest is None and not lost:
        return None
    return {
        "allowed_lost": latest.allowed_lost if latest is not None else 0,
        "workers": [
            {
                "worker": w.worker,
                "pid": w.pid,
                "host": w.host,
                "requests": w.finished,
                "share": w.share,
                "users": w.users,
                "in_flight": w.in_flight,
                "since_batch_s": w.since_batch,
                "since_report_s": w.since_report,
                "state": w.state,
            }
            for w in (latest.workers if latest is not None else ())
        ],
        "lost": [
            {
                "worker": e.worker,
                "pid": e.pid,
                "host": e.host,
                "t_s": e.t,
                "phase": e.phase,
                "reason": e.reason,
                "users": e.users,
                "remaining": e.remaining,
                "allowed": e.allowed,
                "moved": e.moved,
                "arrivals": e.arrivals,
                "summary": e.describe(),
            }
            for e in lost
        ],
    }


def workers_line(report: dict[str, Any]) -> str | None:
    """`Locust workers: worker 0 (pid 41, host a): 1,204 requests (51%), 5 users, ok; ...`
    then each lost worker's story and the allowance; None without Locust."""
    part = report.get("load_workers")
    if not part:
        return None
    cells = []
    for w in part["workers"]:
        where = ", ".join(
            x for x in (f"pid {w['pid']}" if w["pid"] is not None else "", w["host"]) if x
        )
        name = f"worker {w['worker']}" + (f" ({where})" if where else "")
        cells.append(
            f"{name}: {w['requests']:,} requests ({w['share']:.0%}), {w['users']} users, "
            f"{w['state']}"
        )
    text = "Locust workers: " + ("; ".join(cells) or "none reported")
    for lost in part["lost"]:
        text += "; " + lost["summary"]
    if part["lost"]:
        allowed = part["allowed_lost"]
        text += f" (the scenario allows {allowed} lost worker{'s' if allowed != 1 else ''})"
    return text


def workers_progress(snapshot: Snapshot) -> str:
    """The live line's part: ` | workers w0 51% ok, w1 49% late` ("" without Locust)."""
    latest = snapshot.workers
    if latest is None or not latest.workers:
        return ""
    shares = latest.workers
    if len(shares) <= LIVE_EACH:
        return " | workers " + ", ".join(f"w{w.worker} {w.share:.0%} {w.state}" for w in shares)
    states = {state: sum(1 for w in shares if w.state == state) for state in ("ok", "late", "lost")}
    return " | workers " + " ".join(f"{n} {state}" for state, n in states.items() if n)
