"""Open arrivals in a Locust process: requests start on the arrival plan's schedule,
whatever the target does, as the built-in `gaplab.load.arrivals.OpenArrivals` starts them.

This process's share of the arrivals (`ArrivalShare`: arrivals n ≡ w mod W, each as user
n % users) start as gevent greenlets at their absolute due times (the lab's timeline
origin + planned offset), on one Locust fast HTTP session (`FastHttpSession`, firing
Locust's request events, so Locust's own statistics count them). The rules are the
built-in's: the arrivals that fell due while the process was briefly late start at once,
up to `MAX_BEHIND`, later ones are *missed*; one that would pass this process's share of
`max_in_flight` is *dropped*. The counts, the drops per phase (at most about once a
second) and each arrival's schedule slip go to the lab with the process's batches
(`arrivals_report`), which publishes the drops as `ArrivalsDropped` and sums the counts.

Not Locust users: Locust's users are closed (each waits for its answer), and its
constant-throughput wait times still wait for the answer; an arrival must not.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import gevent
from gevent.pool import Group
from locust.contrib.fasthttp import FastHttpSession

from gaplab.load.arrivals import CATCH_UP_BATCH, DROP_REPORT_EVERY, MAX_BEHIND, ArrivalCounts
from gaplab.load.client import opted_out_users
from gaplab.load.inputs import InputMix
from gaplab.locust_load.arrival_share import Arrival, ArrivalShare, arrivals_report
from gaplab.locust_load.exchange import Asker
from gaplab.locust_load.link import Sink
from gaplab.locust_load.plan import LocustPlan


class ArrivalDriver:
    """Worker `worker` of `workers`'s open arrivals. `start(origin)` when the lab says the
    timeline started; `stop()` at the end (requests in flight are abandoned, as the
    built-in cancels them; the link's `in_flight` table still lists them for the SLA)."""

    def __init__(
        self, plan: LocustPlan, link: Sink, worker: int, workers: int, environment: Any
    ) -> None:
        load = plan.load_spec()
        self._link = link
        self.share = ArrivalShare(
            load,
            [(duration, rate) for duration, rate in plan.phase_rates],
            InputMix(load.inputs, plan.seed),
            worker,
            workers,
        )
        self._opted_out = opted_out_users(plan.seed, load.users, load.opt_out)
        self._asker = Asker(plan, link)
        # One session for every arrival, its pool as large as the requests it may have in
        # flight; no retries (a failed request is the target's outcome); the patience
        # bounds each socket wait here and the whole exchange in `Asker`.
        self._session = FastHttpSession(
            base_url=plan.base_url,
            request_event=environment.events.request,
            user=None,
            concurrency=max(1, self.share.max_in_flight),
            network_timeout=load.patience,
            connection_timeout=load.patience,
            max_retries=0,
        )
        self.counts = ArrivalCounts()
        self._dropped: Counter[str] = Counter()  # phase -> drops not yet reported
        self._slips: list[float] = []
        self._reported_drops_at = 0.0
        self._changed = False
        self._requests = Group()
        self._walker: gevent.Greenlet[Any, Any] | None = None
        link.reporters.append(self.report)

    def start(self, origin: float) -> None:
        """Start arriving on the plan, counted from `origin` (the lab's run clock)."""
        if self._walker is None:
            self._reported_drops_at = origin
            self._walker = gevent.spawn(self._arrive, origin)

    def _arrive(self, origin: float) -> None:
        link, counts, share = self._link, self.counts, self.share
        behind = 0
        for n, offset in share.due():
            due = origin + offset
            wait = due - link.now()
            if wait > 0:
                behind = 0
                gevent.sleep(wait)
            else:
                behind += 1
                if behind % CATCH_UP_BATCH == 0:
                    gevent.sleep(0)  # let answers in while catching up
            counts.planned += 1
            self._changed = True
            now = link.now()
            if now - due > MAX_BEHIND:
                counts.missed += 1
                share.skip(n)
            elif counts.in_flight >= share.max_in_flight:
                counts.dropped += 1
                share.skip(n)
                self._dropped[link.phase] += 1
            else:
                counts.started += 1
                counts.in_flight += 1
                self._requests.spawn(self._request, share.take(n, offset), due)

    def _request(self, arrival: Arrival, due: float) -> None:
        try:
            self._slips.append(max(0.0, self._link.now() - due))
            opted_out = arrival.index in self._opted_out
            self._asker.ask(
                self._session, arrival.user, arrival.request_id, arrival.given, opted_out
            )
        finally:
            self.counts.in_flight -= 1
            self._changed = True

    def report(self, final: bool = False) -> dict[str, Any] | None:
        """What the lab should hear now (called with each batch), or None: the counts when
        they changed, the drops at most every DROP_REPORT_EVERY (all of them when `final`)."""
        now = self._link.now()
        dropped: dict[str, int] = {}
        if self._dropped and (final or now - self._reported_drops_at >= DROP_REPORT_EVERY):
            dropped = dict(self._dropped)
            self._dropped.clear()
            self._reported_drops_at = now
        if not (self._changed or dropped or final):
            return None
        self._changed = False
        slips, self._slips = self._slips, []
        return arrivals_report(self._link.worker, self.counts, dropped, slips)

    def stop(self) -> None:
        """Stop arriving and abandon the requests in flight (their greenlets end)."""
        if self._walker is not None:
            self._walker.kill(block=True, timeout=2.0)
        self._requests.kill(block=True, timeout=2.0)
        self._link.report_now(final=True)
