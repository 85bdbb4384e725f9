"""`queue_log` lines for a period, made from the database's fact log on demand (the CLI's
`callserver queue-log`, `GET /api/queue-log`): what the file holds for that period, also where no
file was written or it was lost.

Facts from `lookback` seconds before the period are read first, without writing, so a call that
began before the period ends with the right positions and times.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import UTC, datetime

from callserver.config import Settings
from callserver.store.store import Store

from .mapper import QueueLogMapper


async def queue_log_lines(
    store: Store, mapper: Callable[[], QueueLogMapper], start: float, end: float, *, lookback: float
) -> AsyncIterator[str]:
    """Each line (with its newline) of [start, end), Unix seconds, in the order the file has them."""
    if end <= start:
        return
    fresh = mapper()
    since = datetime.fromtimestamp(max(0.0, start - lookback), UTC)
    until = datetime.fromtimestamp(end, UTC)
    async for fact in store.iter_facts(since, until):
        for entry in fresh.on_fact(fact):
            if start <= entry.at < end:
                yield entry.line() + "\n"


class QueueLogExport:
    """What the REST route and the CLI call: a store, how to make a mapper, and the lookback."""

    def __init__(self, store: Store, mapper: Callable[[], QueueLogMapper], *, lookback: float) -> None:
        self.store = store
        self.mapper = mapper
        self.lookback = lookback

    def lines(self, start: float, end: float) -> AsyncIterator[str]:
        return queue_log_lines(self.store, self.mapper, start, end, lookback=self.lookback)


def mapper_factory(
    settings: Settings, agent_queues: Mapping[str, Iterable[str]]
) -> Callable[[], QueueLogMapper]:
    """How to make a mapper for this configuration: one for the file, a fresh one per export."""
    queues = {agent: tuple(names) for agent, names in agent_queues.items()}
    keys = {q.name: q.callback_key for q in settings.queues if q.callback_key}
    prefix = settings.queue_log.member_prefix
    return lambda: QueueLogMapper(queues, member_prefix=prefix, callback_keys=keys)
