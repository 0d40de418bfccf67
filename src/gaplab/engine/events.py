"""Typed, frozen events of a run. The engine and its parts fire them on the bus; the
aggregator, the journal writer, the checks and the front ends subscribe.

Every event has `t`, seconds on the run clock, and a `kind` used as its JSONL tag.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

from gaplab.provider.journal import ProviderCall

# What a user got: a normal answer, the declared fallback, a declared refusal (a safe "I
# can't help with that"), a failure, or something that must never reach a user.
OUTCOMES = ("ok", "degraded", "refused", "error", "unsafe")
# How a streamed answer ended: its `done` event, the target's explicit error event, cut
# short of both (the connection closed, or broke), or stalled until the user's patience ran out.
STREAM_ENDS = ("done", "error_event", "cut", "stalled")


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"
    t: float

    def to_dict(self) -> dict[str, Any]:
        # Shallow: events hold only plain values and tuples, which JSON writes as they are;
        # dataclasses.asdict deep-copies and cost ~25x as much on the journal's hot path.
        return {"kind": self.kind, **self.__dict__}


@dataclass(frozen=True)
class RunStarted(Event):
    kind: ClassVar[str] = "run_started"
    run_id: str
    scenario: str
    title: str
    target: str
    seed: int
    sla: float
    phases: tuple[tuple[str, float], ...]  # (name, duration)
    provider_base_url: str
    target_base_url: str


@dataclass(frozen=True)
class PhaseStarted(Event):
    kind: ClassVar[str] = "phase_started"
    phase: str
    index: int
    duration: float
    faults: tuple[str, ...]  # human descriptions
    outage: bool  # any fault in the phase makes calls fail or never answer
    slow: float  # seconds of extra provider latency the faults add (inf for a hang)


@dataclass(frozen=True)
class PhaseEnded(Event):
    kind: ClassVar[str] = "phase_ended"
    phase: str
    index: int


@dataclass(frozen=True)
class FaultChanged(Event):
    kind: ClassVar[str] = "fault_changed"
    phase: str
    faults: tuple[str, ...]  # active faults after the change (empty: all cleared)
    source: str = "timeline"  # "timeline" | "manual"


@dataclass(frozen=True)
class FaultCoverage(Event):
    """What one fault of a phase hit, published when the phase ends: the evidence that the
    experiment happened. `hits` counts provider calls the fault applied to (provider faults)
    or proxied connections it applied to (network faults); None where it cannot be counted
    (a real Toxiproxy keeps no counts). `matched` counts calls inside its scope, before
    `first`/`every`/`probability` picked the ones it hit."""

    kind: ClassVar[str] = "fault_coverage"
    phase: str
    index: int  # the fault's position in its phase
    fault: str  # its description, scope included
    source: str  # "provider" | "network"
    hits: int | None
    matched: int | None = None
    manual: bool = False  # a fault applied by hand (ManualFault): not part of the plan


@dataclass(frozen=True)
class ManualFault(Event):
    """A fault applied or cleared by hand during the run (the TUI's chaos keys), with what
    is needed to replay it: `spec` is the fault as a scenario file would write it (under
    `provider:` or `network:`), or `{"inputs": kind}` for a switch of the input mix.
    A `FaultChanged(source="manual")` follows with the faults active after it."""

    kind: ClassVar[str] = "manual_fault"
    action: str  # "apply" | "clear"
    name: str  # the preset's name: provider_503, hang, ...
    fault: str  # its description
    source: str  # "provider" | "network" | "inputs"
    phase: str  # the phase it happened in
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UserRequestFinished(Event):
    """One user-side request: `t` is when it finished, `started` when it was sent."""

    kind: ClassVar[str] = "user_request"
    request_id: str
    user: str
    phase: str  # the phase it started in
    started: float
    latency: float
    outcome: str  # one of OUTCOMES
    status: int  # HTTP status, 0 for a transport failure or timeout
    detail: str = ""  # why it was classified so (e.g. "timeout after 30s", "canary")
    endpoint: str = "ai"  # "ai" or "GET /notes/1" for non-AI probes
    # What the user sent (ground truth; see gaplab.load.inputs): the input kind, the
    # reference that joins provider calls to this request, the payload it carried, and
    # every value the lab planted in it as (kind, value) pairs. Raw values stay in the
    # journal; reports mask personal data.
    input_kind: str = "questions"
    reference: str = ""
    payload: str = ""
    planted: tuple[tuple[str, str], ...] = ()
    opted_out: bool = False
    excerpt: str = ""  # for `unsafe`: the offending passage of the answer
    disclosed: bool = False  # an ok answer carried the AI disclosure the target declares
    conversation: str = ""  # a conversation turn: the session's id and the turn (1-based)
    turn: int = 0
    input_tokens: int = 0  # the input's size as the lab counted it (0: a short input)
    # A streamed answer (`response.stream`), read as a browser reads it: seconds to the
    # body's first byte, how the stream ended (STREAM_ENDS) and how many events came.
    ttfb: float | None = None
    stream_end: str = ""
    chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        # The journal's most frequent line: fields still at their default are left out.
        data: dict[str, Any] = {"kind": self.kind}
        for key, value in self.__dict__.items():
            if _REQUEST_DEFAULTS.get(key, _MISSING) != value:
                data[key] = value
        return data


_MISSING = object()
_REQUEST_DEFAULTS: dict[str, Any] = {
    f.name: f.default for f in fields(UserRequestFinished) if f.default is not MISSING
}


@dataclass(frozen=True)
class ProviderCallRecorded(Event):
    kind: ClassVar[str] = "provider_call"
    call: ProviderCall

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "t": self.t, "call": self.call.to_dict()}


@dataclass(frozen=True)
class ArrivalsDropped(Event):
    """Open-model arrivals of `phase` that were not started because `max_in_flight`
    requests were already in flight; published in batches (about one a second)."""

    kind: ClassVar[str] = "arrivals_dropped"
    phase: str
    count: int


@dataclass(frozen=True)
class LabHealth(Event):
    """The lab's own health (gaplab.engine.monitor), about once a second and once at the
    end (`final`). `window_*` figures cover the last `window` seconds, `run_*` the run so
    far; lag is the lateness of a periodic timer on the lab's event loop, slip how late
    open-model arrivals started against their plan (None under closed users). Seconds."""

    kind: ClassVar[str] = "lab_health"
    load_model: str  # "open" | "closed"
    window: float
    window_lag_p50: float | None
    window_lag_p99: float | None
    window_slip_p50: float | None
    window_slip_p99: float | None
    run_lag_p50: float | None
    run_lag_p99: float | None
    run_lag_max: float | None
    run_slip_p50: float | None
    run_slip_p99: float | None
    run_slip_max: float | None
    arrivals_planned: int = 0
    arrivals_started: int = 0
    arrivals_dropped: int = 0
    arrivals_missed: int = 0
    in_flight: int = 0
    final: bool = False


WORKER_STATES = ("ok", "late", "lost")  # a Locust worker's health (LoadWorkers)


@dataclass(frozen=True)
class WorkerShare:
    """One Locust worker in a `LoadWorkers` snapshot: its number (the master's index, 0 for
    the local runner), its pid and host when it said them, the requests it finished and
    their share of all, the users it runs and has in flight, seconds since its last batch
    of finished requests (None: none yet) and since it last reported at all, its state."""

    worker: int
    pid: int | None
    host: str
    finished: int
    share: float
    users: int
    in_flight: int
    since_batch: float | None
    since_report: float | None
    state: str  # one of WORKER_STATES


@dataclass(frozen=True)
class LoadWorkers(Event):
    """Each Locust worker's share and health (`--load locust` only), about once a second
    and once at the stop (`final`); `allowed_lost`: the scenario's `load.locust`
    allowance."""

    kind: ClassVar[str] = "load_workers"
    workers: tuple[WorkerShare, ...]
    allowed_lost: int = 0
    final: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "t": self.t,
            "workers": [w.__dict__ for w in self.workers],
            "allowed_lost": self.allowed_lost,
            "final": self.final,
        }


@dataclass(frozen=True)
class LoadWorkerLost(Event):
    """A Locust worker lost mid-run: why, in which phase, the users it ran and where they
    went (`moved`: to the remaining workers, within the scenario's allowance; else they
    stopped). `allowed` False: past the allowance, the run is incomplete."""

    kind: ClassVar[str] = "load_worker_lost"
    worker: int
    pid: int | None
    host: str
    phase: str
    reason: str  # "exited with code -9", "stopped answering its master"
    users: int
    remaining: int  # workers still running after this one
    allowed: bool
    moved: bool
    arrivals: bool = False  # open arrivals: its share of them stopped (not moved)

    def describe(self) -> str:
        """`worker 1 (pid 4242) lost at 12.3 s in phase outage (exited with code -9); its
        5 users moved to the 1 remaining worker`."""
        where = f"pid {self.pid}" if self.pid is not None else ""
        if self.host:
            where = f"{where} on {self.host}" if where else self.host
        who = f"worker {self.worker}" + (f" ({where})" if where else "")
        users = f"its {self.users} user{'s' if self.users != 1 else ''}"
        if self.arrivals:
            went = "its share of the arrivals stopped"
        elif self.moved:
            plural = "s" if self.remaining != 1 else ""
            went = f"{users} moved to the {self.remaining} remaining worker{plural}"
        else:
            went = f"{users} stopped"
        return f"{who} lost at {self.t:.1f} s in phase {self.phase} ({self.reason}); {went}"


@dataclass(frozen=True)
class HealthProbed(Event):
    """One poll of the target's declared health endpoint (gaplab.engine.probes): `t` is
    when it was sent; `degraded` None when the answer could not be read."""

    kind: ClassVar[str] = "health_probe"
    phase: str
    latency: float
    status: int  # 0: no answer
    degraded: bool | None
    detail: str = ""


@dataclass(frozen=True)
class MetricsScraped(Event):
    """One scrape of the target's declared Prometheus endpoint, reduced to what the
    observability checks read: the AI-call latency histogram summed over its series
    (cumulative bucket counts by upper bound, without +Inf), its count and sum, the token
    counters, observations per model label value, and the declared names not found."""

    kind: ClassVar[str] = "metrics_scrape"
    phase: str
    latency: float
    status: int
    buckets: tuple[tuple[float, float], ...] = ()
    count: float | None = None
    total: float | None = None
    tokens_in: float | None = None
    tokens_out: float | None = None
    models: tuple[tuple[str, float], ...] = ()
    missing: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class TargetActed(Event):
    """A request the prober sent to act on the target: `kill_switch.off`/`.on` at phase
    edges, a `write`, an `enrich`; `t` is when it was answered, `started` when sent."""

    kind: ClassVar[str] = "target_action"
    action: str
    phase: str
    started: float
    latency: float
    status: int  # 0: no answer
    item: str = ""  # write/enrich: the item id
    reference: str = ""  # write/enrich: the reference planted in the item's text
    detail: str = ""


@dataclass(frozen=True)
class CheckEvaluated(Event):
    kind: ClassVar[str] = "check_evaluated"
    check_id: str
    verdict: str
    summary: str
    final: bool = True  # False: decided live, as soon as its phases ended


@dataclass(frozen=True)
class LogMessage(Event):
    kind: ClassVar[str] = "log"
    level: str
    message: str


@dataclass(frozen=True)
class RunFinished(Event):
    kind: ClassVar[str] = "run_finished"
    status: str  # "completed" | "interrupted" | "failed"
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        RunStarted,
        PhaseStarted,
        PhaseEnded,
        FaultChanged,
        FaultCoverage,
        ManualFault,
        UserRequestFinished,
        ProviderCallRecorded,
        ArrivalsDropped,
        LabHealth,
        LoadWorkers,
        LoadWorkerLost,
        HealthProbed,
        MetricsScraped,
        TargetActed,
        CheckEvaluated,
        LogMessage,
        RunFinished,
    )
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSONL form (`lab report` uses this)."""
    data = dict(data)
    cls = EVENT_TYPES[data.pop("kind")]
    if cls is ProviderCallRecorded:
        return ProviderCallRecorded(t=data["t"], call=ProviderCall.from_dict(data["call"]))
    if cls is LoadWorkers:
        share_fields = {f.name for f in fields(WorkerShare)}
        workers = tuple(
            WorkerShare(**{k: v for k, v in w.items() if k in share_fields})
            for w in data.get("workers", ())
        )
        return LoadWorkers(
            t=data["t"],
            workers=workers,
            allowed_lost=int(data.get("allowed_lost", 0)),
            final=bool(data.get("final", False)),
        )
    names = {f.name for f in fields(cls)}
    kwargs = {k: v for k, v in data.items() if k in names}
    for key in ("phases", "faults", "planted", "buckets", "models", "missing"):
        if key in kwargs and isinstance(kwargs[key], list):
            kwargs[key] = tuple(tuple(x) if isinstance(x, list) else x for x in kwargs[key])
    return cls(**kwargs)
