"""The event bus: synchronous fan-out to subscribers, each isolated from the others.

A subscriber that raises is logged and kept (Locust's EventHook does the same): one broken
listener must not stop a run or starve the others. Subscribers must be quick; slow work
(writing files, drawing) is batched by the subscriber itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gaplab.engine.events import Event

Subscriber = Callable[[Event], None]
log = logging.getLogger(__name__)


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self.failures = 0

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.remove(subscriber)

    def publish(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                self.failures += 1
                log.exception("event subscriber %r failed on %s", subscriber, event.kind)
