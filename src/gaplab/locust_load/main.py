"""A Locust process of a gaplab run. gevent patches this process, and only this one, first.

    python -m gaplab.locust_load.main local PLAN           the local runner (--load locust)
    python -m gaplab.locust_load.main master PLAN N PORT   a master expecting N workers
    python -m gaplab.locust_load.main worker HOST PORT     a worker (lab locust-worker)

The lab starts the local runner or the master (`gaplab.locust_load.process`) with the plan
it wrote; they talk to the lab's channel. A worker knows only its master: it gets the plan,
its worker number and the run clock from it (Locust messages), and sends its finished
requests back the same way. Every process ends when the lab says stop or its channel
closes: the master then stops its workers.
"""

from gevent import monkey

monkey.patch_all()

import ctypes  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from locust import events  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.runners import STATE_MISSING  # noqa: E402

from gaplab.locust_load.arrive import ArrivalDriver  # noqa: E402
from gaplab.locust_load.link import LabLink, Sink, WorkerLink  # noqa: E402
from gaplab.locust_load.plan import LocustPlan  # noqa: E402
from gaplab.locust_load.user import GaplabVirtualUser  # noqa: E402

SPAWN_ALL_AT_ONCE = 10_000.0  # users a second: the built-in load starts them together
BYE_WITHIN = 8.0  # seconds the master waits for its workers' last batches


def spawn_rate(users: int, ramp: float) -> float:
    """Locust starts `spawn_rate` users a second; the scenario spreads them over `ramp`."""
    return max(users, 1) / ramp if ramp > 0 else SPAWN_ALL_AT_ONCE


def open_arrivals(
    plan: LocustPlan, link: Sink, worker: int, workers: int, environment: Any
) -> ArrivalDriver | None:
    """The process's open arrivals when the scenario has them (else None): they start when
    the lab says the timeline started (`{"arrive": origin}`)."""
    if not plan.load_spec().open:
        return None
    return ArrivalDriver(plan, link, worker, workers, environment)


def run_local(plan: LocustPlan) -> int:
    link = LabLink(plan)
    GaplabVirtualUser.configure(plan, link, 0, 1)
    environment = Environment(user_classes=[GaplabVirtualUser], events=events, host=plan.base_url)
    runner = environment.create_local_runner()
    link.beat_with(lambda: int(runner.user_count))  # worker 0: its users, in flight
    ramp = plan.load_spec().ramp
    link.on_users = lambda users: runner.start(users, spawn_rate(users, ramp))
    driver = open_arrivals(plan, link, 0, 1, environment)
    if driver is not None:
        link.on_message = lambda message: _arrive(driver, message)
    link.hello(workers=0)
    link.stopped.wait()  # the users start when the lab says how many
    pending = sorted(link.in_flight.values(), key=lambda f: f.started)
    now = link.now()
    runner.stop()
    if driver is not None:
        driver.stop()
    if link.stop_sla is not None:
        link.abandon(pending, now, link.stop_sla)
    link.close()
    runner.quit()
    return 0


def _arrive(driver: ArrivalDriver | None, message: dict[str, Any]) -> None:
    if driver is not None and "arrive" in message:
        driver.start(float(message["arrive"]))


def run_master(plan: LocustPlan, workers: int, port: int) -> int:
    link = LabLink(plan)
    GaplabVirtualUser.configure(plan, link, 0, workers)
    environment = Environment(user_classes=[GaplabVirtualUser], events=events, host=plan.base_url)
    runner = environment.create_master_runner("*", port)
    untyped: Any = runner  # a few of Locust's methods carry no annotations
    ready: dict[str, int] = {}
    byes: set[int] = set()

    def on_hello(environment: Any, msg: Any, **kwargs: Any) -> None:
        # Asked for by the worker once it listens for it (on connect it may not yet).
        index = untyped.get_worker_index(msg.node_id)
        data = {"plan": plan.__dict__, "index": index, "workers": workers, "now": link.now()}
        runner.send_message("gaplab_plan", data, client_id=msg.node_id)

    def on_ready(environment: Any, msg: Any, **kwargs: Any) -> None:
        index = int(msg.data["index"])
        ready[msg.node_id] = index
        worker = {"worker": index, "pid": msg.data.get("pid"), "host": msg.data.get("host", "")}
        link.tell(workers_ready=sorted(ready.values()), worker_ready=worker)

    def on_events(environment: Any, msg: Any, **kwargs: Any) -> None:
        link.forward(msg.data)  # {"worker", "events"}

    def on_bye(environment: Any, msg: Any, **kwargs: Any) -> None:
        byes.add(int(msg.data["worker"]))

    runner.register_message("gaplab_hello", on_hello)
    runner.register_message("gaplab_ready", on_ready)
    runner.register_message("gaplab_events", on_events)
    runner.register_message("gaplab_bye", on_bye)
    # The lab's phase and lessons go to every worker; the user count is the master's.
    link.on_message = lambda message: runner.send_message("gaplab", message)
    ramp = plan.load_spec().ramp
    link.on_users = lambda users: runner.start(users, spawn_rate(users, ramp))

    allowed = plan.load_spec().locust.allow_lost_workers

    told: set[int] = set()  # workers lost (the lab was told)

    def watch_workers() -> None:
        while True:
            gevent.sleep(1.0)
            lost = {
                untyped.get_worker_index(node.id)
                for node in list(runner.clients.values())
                if node.state == STATE_MISSING
            } - told
            if lost:
                told.update(lost)
                link.tell(workers_lost=sorted(lost))
                # Locust has taken the missing worker out of its dispatcher, but without
                # --enable-rebalancing gives its users to the others only at the next
                # `start` (a phase edge) or a minute later. Within the allowance the run
                # keeps the scenario's users: dispatch them again now.
                users = runner.target_user_count  # 0 under open arrivals: nothing to move
                if (
                    users
                    and len(told) <= allowed
                    and runner.worker_count > 0
                    and not link.stopped.is_set()
                ):
                    runner.start(users, spawn_rate(users, ramp))

    gevent.spawn(watch_workers)
    while len(ready) < workers and not link.stopped.is_set():
        gevent.sleep(0.05)  # the lab says which are missing if they do not come
    if not link.stopped.is_set():
        link.hello(workers=workers)
        link.stopped.wait()  # the users start when the lab says how many
    runner.send_message("gaplab_stop", {"sla": link.stop_sla})
    with gevent.Timeout(BYE_WITHIN, False):
        while set(ready.values()) - told - byes:  # a lost worker says no goodbye
            gevent.sleep(0.05)
    link.close()
    runner.quit()
    return 0


def run_worker(host: str, port: int) -> int:
    environment = Environment(user_classes=[GaplabVirtualUser], events=events)
    runner = environment.create_worker_runner(host, port)
    state: dict[str, Any] = {}

    def on_plan(environment: Any, msg: Any, **kwargs: Any) -> None:
        plan = LocustPlan.of(msg.data["plan"])
        index = int(msg.data["index"])
        link = WorkerLink(plan, index, float(msg.data["now"]), runner)
        workers = int(msg.data["workers"])
        GaplabVirtualUser.configure(plan, link, index, workers)
        environment.host = plan.base_url
        state["link"] = link
        state["driver"] = open_arrivals(plan, link, index, workers, environment)
        ready = {"index": index, "pid": os.getpid(), "host": socket.gethostname()}
        runner.send_message("gaplab_ready", ready)

    def on_lab(environment: Any, msg: Any, **kwargs: Any) -> None:
        if "link" in state:
            state["link"].apply(msg.data)
            _arrive(state["driver"], msg.data)

    def on_stop(environment: Any, msg: Any, **kwargs: Any) -> None:
        link = state.get("link")
        if link is None:
            return
        pending = sorted(link.in_flight.values(), key=lambda f: f.started)
        now = link.now()
        runner.stop()
        if state["driver"] is not None:
            state["driver"].stop()
        if msg.data.get("sla") is not None:
            link.abandon(pending, now, float(msg.data["sla"]))
        link.close()

    runner.register_message("gaplab_plan", on_plan)
    runner.register_message("gaplab", on_lab)
    runner.register_message("gaplab_stop", on_stop)
    runner.send_message("gaplab_hello", {})
    runner.greenlet.join()  # until the master says quit
    return 0


LAB_PID = "GAPLAB_LAB_PID"  # set by the lab for the processes it starts
PR_SET_PDEATHSIG = 1


def die_with_the_lab() -> None:
    """A process the lab started gets SIGTERM from the kernel when the lab dies, however it
    dies (SIGKILL included), so no Locust process outlives its run (Linux; elsewhere the
    closed channel and the master's quit do it, more slowly)."""
    lab = os.environ.get(LAB_PID)
    if lab is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(lab):  # the lab died before the line above
        sys.exit(1)


def main(argv: list[str]) -> int:
    die_with_the_lab()
    mode = argv[0]
    if mode == "local":
        return run_local(LocustPlan.read(Path(argv[1])))
    if mode == "master":
        return run_master(LocustPlan.read(Path(argv[1])), int(argv[2]), int(argv[3]))
    if mode == "worker":
        return run_worker(argv[1], int(argv[2]))
    raise SystemExit(f"unknown mode {mode!r}: local, master or worker")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
