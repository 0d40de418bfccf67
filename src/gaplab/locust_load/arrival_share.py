"""Open arrivals on Locust: which arrivals each Locust process sends, as whom, and the
tally the lab keeps of what became of them. Plain Python (no gevent, no Locust), so the
lab imports it and the unit tests drive it without Locust processes.

Every Locust process that runs users (the local runner, or worker `w` of `W`) walks the
same `ArrivalPlan` (rebuilt from the scenario's load and phases in the plan) and takes
the arrivals `n ≡ w (mod W)`. Arrival `n` is sent as user `n % users`, as under the
built-in load (`gaplab.load.arrivals`); each process keeps `max_in_flight // W` requests
in flight at most (the first `max_in_flight % W` workers one more), so the run as a whole
keeps the scenario's limit.

A user's request ids (`user-0007-000003`) and seeded inputs follow its arrivals in order:
- when `W` divides `users` (always with the local runner, and the bundled scenarios with 2
  workers), each user's arrivals all go to one process, which keeps the built-in rule
  exactly: a dropped or missed arrival takes no sequence number and no input;
- otherwise a user's arrivals are spread over several processes, none of which sees the
  others' drops; so every arrival of such a user takes its place (its sequence number and
  its input) whether it was sent or not, which keeps request ids unique across workers
  and gives the built-in's ids and inputs in every run without drops.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from gaplab.engine.events import ArrivalsDropped
from gaplab.load.arrival_plan import ArrivalPlan
from gaplab.load.arrivals import ArrivalCounts
from gaplab.load.inputs import InputMix, UserInput, UserStream
from gaplab.scenario.load_models import LoadSpec


def in_flight_share(max_in_flight: int, worker: int, workers: int) -> int:
    """Worker `worker`'s part of `max_in_flight`: the parts add up to the whole."""
    return max_in_flight // workers + (1 if worker < max_in_flight % workers else 0)


@dataclass(frozen=True)
class Arrival:
    """One arrival a process sends: its number, due time, user and request id."""

    n: int
    offset: float  # seconds from the timeline's start
    index: int  # the user's index
    user: str
    request_id: str
    given: UserInput


class ArrivalShare:
    """Worker `worker` of `workers`'s arrivals, in order. `due()` yields the number and due
    time of each of ours; once the process knows whether it sends it, `take(n)` gives the
    request to send and `skip(n)` records a drop or a miss."""

    def __init__(
        self,
        load: LoadSpec,
        phase_rates: Sequence[tuple[float, float | None]],
        mix: InputMix,
        worker: int,
        workers: int,
    ) -> None:
        self.plan = ArrivalPlan.build(load, phase_rates)
        self.worker, self.workers = worker, workers
        self.users = load.users
        self.max_in_flight = in_flight_share(load.max_in_flight, worker, workers)
        # Users whose arrivals several processes share (see the module docstring).
        self._shared = load.users % workers != 0
        self._mix = mix
        self._streams: dict[int, UserStream] = {}
        self._sequence: Counter[int] = Counter()

    def due(self) -> Iterator[tuple[int, float]]:
        """(n, offset) of this process's arrivals; advances the users it shares with the
        other processes past their arrivals on the way."""
        for n, offset in enumerate(self.plan.offsets()):
            if n % self.workers == self.worker:
                yield n, offset
            elif self._shared:
                self._advance(n % self.users)

    def take(self, n: int, offset: float) -> Arrival:
        """The request arrival `n` sends (it is started)."""
        index = n % self.users
        given = self._advance(index)
        user = f"user-{index:04d}"
        return Arrival(n, offset, index, user, f"{user}-{self._sequence[index]:06d}", given)

    def skip(self, n: int) -> None:
        """Arrival `n` was dropped or missed."""
        if self._shared:
            self._advance(n % self.users)

    def _advance(self, index: int) -> UserInput:
        stream = self._streams.get(index)
        if stream is None:
            stream = self._streams[index] = self._mix.stream(index)
        self._sequence[index] += 1
        return stream.next()


class ArrivalTally:
    """The lab's sum of what its Locust processes report about their arrivals: each
    process's latest `ArrivalCounts`, its drops per phase (published as `ArrivalsDropped`)
    and how late each of its arrivals started (the schedule slip, for the lab monitor)."""

    def __init__(self, on_slip: Callable[[float], None] | None = None) -> None:
        self._counts: dict[int, ArrivalCounts] = {}
        self._on_slip = on_slip

    def take(self, message: dict[str, Any], now: float) -> list[ArrivalsDropped]:
        """A process's report (`arrivals_report`); returns the drop events to publish."""
        if "arrivals" not in message:
            return []
        worker = int(message.get("worker", 0))
        self._counts[worker] = ArrivalCounts(**message["arrivals"])
        if self._on_slip is not None:
            for slip in message.get("slips", ()):
                self._on_slip(float(slip))
        return [
            ArrivalsDropped(t=now, phase=phase, count=int(count))
            for phase, count in message.get("dropped", {}).items()
            if count
        ]

    def counts(self) -> ArrivalCounts:
        total = ArrivalCounts()
        for counts in self._counts.values():
            total.planned += counts.planned
            total.started += counts.started
            total.dropped += counts.dropped
            total.missed += counts.missed
            total.in_flight += counts.in_flight
        return total


def arrivals_report(
    worker: int, counts: ArrivalCounts, dropped: dict[str, int], slips: list[float]
) -> dict[str, Any]:
    """A process's report to the lab (channel message)."""
    return {
        "worker": worker,
        "arrivals": asdict(counts),
        "dropped": dropped,
        "slips": [round(s, 6) for s in slips],
    }
