"""A Locust process of a gaplab run: `python -m gaplab.locust_load.main PLAN [WORKER]`.

The lab starts it (`gaplab.locust_load.process`) with the plan it wrote; it runs the
scenario's users on Locust's local runner until the lab says stop or goes away, then
reports the requests still in flight that had outlasted the SLA, says goodbye and exits.
gevent patches this process, and only this one, first of all.
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from locust import events  # noqa: E402
from locust.env import Environment  # noqa: E402

from gaplab.locust_load.link import LabLink  # noqa: E402
from gaplab.locust_load.plan import LocustPlan  # noqa: E402
from gaplab.locust_load.user import GaplabUser  # noqa: E402

SPAWN_ALL_AT_ONCE = 10_000.0  # users a second: the built-in load starts them together


def spawn_rate(users: int, ramp: float) -> float:
    """Locust starts `spawn_rate` users a second; the scenario spreads them over `ramp`."""
    return max(users, 1) / ramp if ramp > 0 else SPAWN_ALL_AT_ONCE


def main(argv: list[str]) -> int:
    plan = LocustPlan.read(Path(argv[0]))
    worker = int(argv[1]) if len(argv) > 1 else 0
    link = LabLink(plan, worker)
    user_class = GaplabUser.configure(plan, link, worker)
    environment = Environment(user_classes=[user_class], events=events, host=plan.base_url)
    runner = environment.create_local_runner()
    ramp = plan.load_spec().ramp

    def set_users(users: int) -> None:
        runner.start(users, spawn_rate(users, ramp))

    link.on_users = set_users
    set_users(plan.users)
    link.stopped.wait()
    pending = sorted(link.in_flight.values(), key=lambda f: f.started)
    now = link.now()
    runner.stop()
    if link.stop_sla is not None:
        link.abandon(pending, now, link.stop_sla)
    link.close()
    runner.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
