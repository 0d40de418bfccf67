"""gaplab's Locust user: the scenario's virtual user, sent by Locust's fast HTTP client.

Runs only in a Locust process (`gaplab.locust_load.main`), never in the lab's. Each user
takes the next index of its worker (`LocustPlan`), and from it exactly what the built-in
load generator gives that user: its seeded input stream, its id (`user-0007`), its request
ids, whether it opted out. It sends each request as the built-in client does
(`gaplab.locust_load.exchange`: template, correlation header, streamed answers, patience)
and waits `think` after each answer. The answer is classified here, on the worker, by the
lab's own classifier (`target.classify`, with an unsafe detector the lab keeps teaching
what it learns from the provider journal), and the finished request goes to the lab as the
same `UserRequestFinished` event the built-in generator publishes, through the process's
`LabLink` (with the answer when it was not found unsafe: the lab judges it again if a
lesson arrived here too late). Open arrivals are not Locust users:
`gaplab.locust_load.arrive` sends them.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

from locust import FastHttpUser, constant, task

from gaplab.load.client import opted_out_users
from gaplab.load.inputs import InputMix, UserStream
from gaplab.locust_load.exchange import Asker
from gaplab.locust_load.link import Sink
from gaplab.locust_load.plan import LocustPlan


class GaplabUser(FastHttpUser):
    """Configured once per process by `configure`, before the runner starts users."""

    abstract = True
    link: ClassVar[Sink]
    plan: ClassVar[LocustPlan]
    _mix: ClassVar[InputMix]
    _indices: ClassVar[itertools.count[int]]
    _opted_out: ClassVar[frozenset[int]]
    _asker: ClassVar[Asker]

    @classmethod
    def configure(cls, plan: LocustPlan, link: Sink, worker: int, workers: int) -> None:
        """Worker `worker` of `workers` takes user indices worker, worker + workers, ..."""
        load = plan.load_spec()
        attributes: dict[str, Any] = {
            "host": plan.base_url,
            "wait_time": constant(load.think),
            # The user's patience bounds each wait on the socket (and `Asker` the whole
            # exchange, as the built-in's total timeout); no retries: a failed request is
            # the target's outcome.
            "network_timeout": load.patience,
            "connection_timeout": load.patience,
            "max_retries": 0,
            "link": link,
            "plan": plan,
            "_mix": InputMix(load.inputs, plan.seed),
            "_indices": itertools.count(worker, workers),
            "_opted_out": opted_out_users(plan.seed, load.users, load.opt_out),
            "_asker": Asker(plan, link),
        }
        for name, value in attributes.items():
            setattr(cls, name, value)

    def on_start(self) -> None:
        self.index = next(self._indices)
        self.user = f"user-{self.index:04d}"
        self.stream: UserStream = self._mix.stream(self.index)
        self.sequence = 0
        self.opted_out = self.index in self._opted_out

    @task
    def ask(self) -> None:
        self.sequence += 1
        request_id = f"{self.user}-{self.sequence:06d}"
        self._asker.ask(self.client, self.user, request_id, self.stream.next(), self.opted_out)


class GaplabVirtualUser(GaplabUser):
    """The one concrete user class: the master and its workers name it alike, and each
    process configures it once it has the plan."""

    abstract = False
