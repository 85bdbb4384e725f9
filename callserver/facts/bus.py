"""Fan-out of ACD facts to whoever follows them: the store writer, the log, MQTT, the live web channel.

Subscribers are plain callables run in the event loop, in subscription order; one that raises is
logged and the others still get the fact (a broken wallboard must not stop call recording).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .model import Fact

log = logging.getLogger("callserver.facts.bus")

Subscriber = Callable[[Fact], None]


class FactBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns the function that removes it."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def publish(self, fact: Fact) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(fact)
            except Exception:
                log.exception("fact subscriber %r failed on %r", subscriber, fact)
