"""gaplab's Locust user: the scenario's virtual user, sent by Locust's fast HTTP client.

Runs only in a Locust process (`gaplab.locust_load.main`), never in the lab's. Each user
takes the next index of its worker (`LocustPlan`), and from it exactly what the built-in
load generator gives that user: its seeded input stream, its id (`user-0007`), its request
ids, whether it opted out; it fills the same request template, sends it with the
correlation header, waits `think` after each answer, and gives up after `patience`. The
answer is classified here, on the worker, by the lab's own classifier (`target.classify`,
with an unsafe detector the lab keeps teaching what it learns from the provider journal),
and the finished request goes to the lab as the same `UserRequestFinished` event the
built-in generator publishes, through the process's `LabLink`.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

from locust import FastHttpUser, constant, task
from multidict import CIMultiDict

from gaplab.load.client import InFlight, opted_out_users, request_names, request_templates
from gaplab.load.inputs import InputMix, UserStream
from gaplab.locust_load.link import Sink
from gaplab.locust_load.plan import LocustPlan
from gaplab.scenario.target_models import TargetFile
from gaplab.target.classify import Verdict, classify


class GaplabUser(FastHttpUser):
    """Configured once per process by `configure`, before the runner starts users."""

    abstract = True
    link: ClassVar[Sink]
    plan: ClassVar[LocustPlan]
    _mix: ClassVar[InputMix]
    _indices: ClassVar[itertools.count[int]]
    _opted_out: ClassVar[frozenset[int]]
    _templates: ClassVar[Any]
    _target: ClassVar[TargetFile]
    _patience: ClassVar[float]

    @classmethod
    def configure(cls, plan: LocustPlan, link: Sink, worker: int, workers: int) -> None:
        """Worker `worker` of `workers` takes user indices worker, worker + workers, ..."""
        load = plan.load_spec()
        target = plan.target_file()
        attributes: dict[str, Any] = {
            "host": plan.base_url,
            "wait_time": constant(load.think),
            # The user's patience bounds every wait on the socket, as the built-in client's
            # total timeout does; no retries: a failed request is the target's outcome.
            "network_timeout": load.patience,
            "connection_timeout": load.patience,
            "max_retries": 0,
            "link": link,
            "plan": plan,
            "_target": target,
            "_mix": InputMix(load.inputs, plan.seed),
            "_indices": itertools.count(worker, workers),
            "_opted_out": opted_out_users(plan.seed, load.users, load.opt_out),
            "_templates": request_templates(target, plan.names),
            "_patience": load.patience,
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
        given = self.stream.next()
        names = request_names(self.user, request_id, given)
        template, opt_out = self._templates
        chosen = opt_out if self.opted_out else template
        spec = self._target.request
        headers = chosen.headers(names)
        headers[spec.correlation_header] = request_id
        link = self.link
        started = link.now()
        flight = InFlight(request_id, self.user, link.phase, started, "ai", given, self.opted_out)
        link.in_flight[request_id] = flight
        try:
            response = self.client.request(
                spec.method, chosen.url(names), data=chosen.body_bytes(names), headers=headers
            )
            status = response.status_code or 0
            error = getattr(response, "error", None)
            if status == 0 and error is not None:
                verdict = _failure(error, self._patience)
            else:
                payload = response.content or b""
                verdict = classify(
                    status,
                    payload,
                    CIMultiDict(response.headers.items() if response.headers else ()),
                    self._target.response,
                    link.detector,
                    given,
                    request_id,
                )
        finally:
            link.in_flight.pop(request_id, None)
        link.send(flight.finished(link.now(), verdict, status))


class GaplabVirtualUser(GaplabUser):
    """The one concrete user class: the master and its workers name it alike, and each
    process configures it once it has the plan."""

    abstract = False


def _failure(error: BaseException, patience: float) -> Verdict:
    """What the built-in client says for a request that got no answer."""
    if isinstance(error, TimeoutError) or "timeout" in type(error).__name__.lower():
        return Verdict("error", f"no answer within {patience:g}s")
    return Verdict("error", f"{error.__class__.__name__}: {error}"[:200])
