"""The subscription point for PBX events: each component lists the events it handles, in one place.

The AMI link publishes every translated event here; a component registers its table of
`event type -> handler` once (`subscribe`). Handlers run synchronously in the event loop, in
subscription order; one that raises is logged and the others still get the event (a broken monitor
must not stop call handling).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from .events import PbxEvent

log = logging.getLogger("callserver.pbx.hub")

E = TypeVar("E")
Handler = Callable[[Any], None]


class Subscriptions:
    """One component's table of handled events, built with `on` so each handler is type-checked."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.handlers: dict[type[Any], Handler] = {}

    def on(self, event_type: type[E], handler: Callable[[E], None]) -> Subscriptions:
        if event_type in self.handlers:
            raise ValueError(f"{self.owner}: {event_type.__name__} is subscribed twice")
        self.handlers[event_type] = handler
        return self


class PbxEventHub:
    def __init__(self) -> None:
        self._by_type: dict[type[Any], list[tuple[str, Handler]]] = {}

    def subscribe(self, table: Subscriptions) -> Callable[[], None]:
        """Register a component's table; returns the function that removes it again."""
        entries = [(event_type, (table.owner, h)) for event_type, h in table.handlers.items()]
        for event_type, entry in entries:
            self._by_type.setdefault(event_type, []).append(entry)

        def unsubscribe() -> None:
            for event_type, entry in entries:
                self._by_type[event_type].remove(entry)

        return unsubscribe

    def subscribers(self, event_type: type[Any]) -> list[str]:
        """Who handles `event_type`, in order (for tests and the architecture docs)."""
        return [owner for owner, _ in self._by_type.get(event_type, [])]

    def publish(self, event: PbxEvent) -> None:
        for owner, handler in self._by_type.get(type(event), ()):
            try:
                handler(event)
            except Exception:
                log.exception("%s failed on %r", owner, event)
