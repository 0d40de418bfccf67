"""What a Locust process needs to send the scenario's users exactly as the built-in load
generator would: the target file, the run's names, the load spec, the seed, the clock's
origin and where the lab listens. Written by the lab as JSON, read by the Locust process
(`gaplab.locust_load.user`); plain data both ways, so the lab side imports no Locust.

User indices: worker `w` of `W` takes indices `w, w + W, w + 2W, ...` in the order its
users start, so user `user-0007` sends the same seeded inputs as under the built-in load,
and a run is reproducible for a given worker count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from gaplab.scenario.load_models import LoadSpec
from gaplab.scenario.target_models import TargetFile


@dataclass(frozen=True)
class LocustPlan:
    target: dict[str, Any]  # TargetFile, as its model dump
    names: dict[str, str]  # the run's placeholder values (port, provider URLs)
    base_url: str  # the target's scheme://host:port (Locust's `host`)
    load: dict[str, Any]  # LoadSpec, as its model dump
    seed: int
    sla: float
    origin: float  # time.monotonic() at the run clock's 0 (same machine)
    lab_host: str  # where the lab's channel listens
    lab_port: int
    users: int  # closed users at the start (0: wait for the lab to say)
    workers: int = 1  # W: the Locust processes that run users
    phase: str = ""  # the phase the first requests start in
    # Open arrivals: each phase's (duration, own `arrival` rate or None), in timeline order,
    # from which each Locust process rebuilds the run's ArrivalPlan.
    phase_rates: list[tuple[float, float | None]] = field(default_factory=list)

    def target_file(self) -> TargetFile:
        return TargetFile.model_validate(self.target)

    def load_spec(self) -> LoadSpec:
        return LoadSpec.model_validate(self.load)

    def write(self, path: Path) -> Path:
        path.write_bytes(orjson.dumps(asdict(self)))
        return path

    @classmethod
    def read(cls, path: Path) -> LocustPlan:
        return cls.of(orjson.loads(path.read_bytes()))

    @classmethod
    def of(cls, data: dict[str, Any]) -> LocustPlan:
        """The plan from its JSON form (as `write` and the master's message carry it)."""
        rates = [
            (float(d), None if r is None else float(r)) for d, r in data.get("phase_rates", ())
        ]
        return cls(**{**data, "phase_rates": rates})

    @classmethod
    def build(
        cls,
        *,
        target: TargetFile,
        names: dict[str, str],
        base_url: str,
        load: LoadSpec,
        seed: int,
        sla: float,
        origin: float,
        lab_host: str,
        lab_port: int,
        users: int,
        workers: int = 1,
        phase: str = "",
        phase_rates: Sequence[tuple[float, float | None]] = (),
    ) -> LocustPlan:
        return cls(
            target=target.model_dump(mode="json", by_alias=True, exclude_none=True),
            names=dict(names),
            base_url=base_url,
            load=load.model_dump(mode="json", by_alias=True, exclude_none=True),
            seed=seed,
            sla=sla,
            origin=origin,
            lab_host=lab_host,
            lab_port=lab_port,
            users=users,
            workers=workers,
            phase=phase,
            phase_rates=[(duration, rate) for duration, rate in phase_rates],
        )
