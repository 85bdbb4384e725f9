"""The store: one async engine, config mirrored into agents/queues, customers, facts applied in
batches, and read queries that return frozen records.

Open it once in the composition root (`await Store.open(url)`), hand it to the FactWriter, the
HTTP API and the voicemail repository, and `await store.close()` at shutdown so no connection is
left behind. Call rows change only through `apply` (the FactWriter): there is no other write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, bindparam, event, func, select
from sqlalchemy.engine import Row, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from callserver.config import Settings
from callserver.facts.model import Fact
from callserver.store import customers as cust
from callserver.store.customers import CustomerConflict
from callserver.store.facts import apply_facts
from callserver.store.migrate import upgrade
from callserver.store.models import Agent, Call, CallEvent, CallOffer, Customer, Queue
from callserver.store.records import (
    CallRecord,
    CustomerFields,
    CustomerRecord,
    EventRecord,
    LoadReport,
    OfferRecord,
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys are off by default in SQLite; WAL lets readers run beside the writer, and with
    WAL, synchronous=NORMAL keeps every committed transaction through a crash of the process
    (kill -9) while syncing to disk only at checkpoints: a power cut may lose the last ones."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._hasher = PasswordHasher()

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect, bringing the schema up to date first unless `migrate` is False."""
        if migrate:
            await upgrade(url)
        engine = create_async_engine(url)
        if make_url(url).get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine)

    async def close(self) -> None:
        await self._engine.dispose()

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for the repositories of capabilities whose tables live in this database
        (voicemail). They never write call rows: those change only through facts."""
        return self._sessions

    # --- configuration -------------------------------------------------------------------------

    async def sync_config(self, settings: Settings) -> None:
        """Upsert agents and queues from config; ones no longer listed are kept but inactive."""
        async with self._sessions.begin() as s:
            agents = {a.id: a for a in (await s.scalars(select(Agent))).all()}
            for a in agents.values():
                a.active = False
            for conf in settings.agents:
                row = agents.get(conf.id) or Agent(id=conf.id)
                row.name, row.login = conf.name, conf.login
                row.interface, row.number = conf.interface, conf.number
                row.skills = dict(conf.skills)
                row.password_hash = self._hash(conf.password, row.password_hash)
                row.active = True
                s.add(row)
            queues = {q.name: q for q in (await s.scalars(select(Queue))).all()}
            for q in queues.values():
                q.active = False
            for qc in settings.queues:
                qrow = queues.get(qc.name) or Queue(name=qc.name)
                qrow.dnis, qrow.skills = list(qc.dnis), list(qc.skills)
                qrow.max_wait, qrow.ring_timeout, qrow.wrapup = qc.max_wait, qc.ring_timeout, qc.wrapup
                qrow.on_timeout_queue = qc.on_timeout.queue
                qrow.on_timeout_message = qc.on_timeout.message
                qrow.active = True
                s.add(qrow)

    def _hash(self, password: str | None, current: str | None) -> str | None:
        """Keep the stored hash when it still matches, so a restart does not rewrite every row."""
        if password is None:
            return None
        if current is not None:
            try:
                self._hasher.verify(current, password)
                return current
            except (VerificationError, InvalidHashError):
                pass
        return self._hasher.hash(password)

    async def agent_password_hash(self, agent_id: str) -> str | None:
        async with self._sessions() as s:
            return await s.scalar(select(Agent.password_hash).where(Agent.id == agent_id))

    # --- customers -----------------------------------------------------------------------------

    async def load_customers(self, path: Path) -> LoadReport:
        """Load the CSV seed; bad rows are reported and skipped, good rows load in one go."""
        rows, errors = cust.parse_csv(Path(path))
        created = updated = 0
        now = cust.now_utc()
        async with self._sessions.begin() as s:
            for row in rows:
                if await cust.upsert_customer(s, row, now):
                    created += 1
                else:
                    updated += 1
        return LoadReport(str(path), created, updated, tuple(errors))

    async def find_customers_by_number(self, number: str) -> list[CustomerRecord]:
        # on every inbound call: one query on a plain connection (no ORM session to set up)
        async with self._engine.connect() as conn:
            return await cust.customers_for_number(conn, number)

    async def find_customer_by_account(self, account: str) -> CustomerRecord | None:
        async with self._sessions() as s:
            found = await s.scalar(select(Customer.id).where(Customer.account == account.strip()))
            records = await cust.customer_records(s, [found] if found is not None else [])
            return records[0] if records else None

    async def customer(self, customer_id: int) -> CustomerRecord | None:
        async with self._sessions() as s:
            records = await cust.customer_records(s, [customer_id])
            return records[0] if records else None

    async def create_customer(self, fields: CustomerFields) -> CustomerRecord:
        """A new customer; CustomerConflict if the account belongs to another one."""
        record = await self._save_customer(None, fields)
        if record is None:
            raise RuntimeError("a customer just created could not be read back")
        return record

    async def update_customer(self, customer_id: int, fields: CustomerFields) -> CustomerRecord | None:
        """Replace a customer's fields and phones; None if there is no such customer."""
        return await self._save_customer(customer_id, fields)

    async def _save_customer(self, customer_id: int | None, fields: CustomerFields) -> CustomerRecord | None:
        try:
            async with self._sessions.begin() as s:
                saved = await cust.save_customer(s, customer_id, fields, cust.now_utc())
        except IntegrityError as err:
            # two saves raced for the same account: the unique constraint decides
            raise CustomerConflict(str(fields.account)) from err
        return None if saved is None else await self.customer(saved)

    # --- facts ---------------------------------------------------------------------------------

    async def apply(self, facts: Sequence[Fact]) -> None:
        """Log and apply all `facts` in one transaction: all of them land, or none."""
        if not facts:
            return
        async with self._sessions.begin() as s:
            await apply_facts(s, facts)

    # --- reading -------------------------------------------------------------------------------

    async def call(self, call_id: str) -> CallRecord | None:
        async with self._sessions() as s:
            row = await s.get(Call, call_id)
            return _call_record(row) if row is not None else None

    async def calls(
        self,
        *,
        queue: str | None = None,
        agent_id: str | None = None,
        outcome: str | None = None,
        customer_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[CallRecord]:
        """Calls newest first, filtered by any of the given fields; `until` is exclusive."""
        query = select(Call)
        if queue is not None:
            query = query.where(Call.queue == queue)
        if agent_id is not None:
            query = query.where(Call.agent_id == agent_id)
        if outcome is not None:
            query = query.where(Call.outcome == outcome)
        if customer_id is not None:
            query = query.where(Call.customer_id == customer_id)
        if since is not None:
            query = query.where(Call.arrived_at >= since)
        if until is not None:
            query = query.where(Call.arrived_at < until)
        query = query.order_by(Call.arrived_at.desc(), Call.id.desc()).limit(limit)
        async with self._sessions() as s:
            return [_call_record(c) for c in (await s.scalars(query)).all()]

    async def offers(self, call_id: str) -> list[OfferRecord]:
        query = (
            select(CallOffer).where(CallOffer.call_id == call_id).order_by(CallOffer.offered_at, CallOffer.id)
        )
        async with self._sessions() as s:
            return [_offer_record(o) for o in (await s.scalars(query)).all()]

    async def call_events(self, call_id: str) -> list[EventRecord]:
        query = select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
        async with self._sessions() as s:
            return [_event_record(e) for e in (await s.scalars(query)).all()]

    async def event_count(self) -> int:
        async with self._sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(CallEvent)) or 0)

    async def counts_by_outcome(self) -> dict[str, int]:
        """Finished calls per outcome; calls still in progress are not counted."""
        query = select(Call.outcome, func.count()).where(Call.outcome.is_not(None)).group_by(Call.outcome)
        async with self._sessions() as s:
            return {str(outcome): int(n) for outcome, n in await s.execute(query)}

    async def contact_history(
        self,
        customer_id: int,
        limit: int = 10,
        *,
        before: str | None = None,
        arrived_before: datetime | None = None,
    ) -> list[CallRecord]:
        """The customer's calls, newest first; `before` leaves out that call and later ones, and
        `arrived_before` the calls that arrived at or after that time (the screen-pop knows when
        its call arrived, which spares a query)."""
        async with self._engine.connect() as conn:
            if before is not None:
                current = await conn.scalar(select(Call.arrived_at).where(Call.id == before))
                if current is not None:
                    arrived_before = min(current, arrived_before or current)
            statement = _HISTORY if arrived_before is None else _HISTORY_BEFORE
            params = {"customer": customer_id, "limit": limit, "before": arrived_before}
            return [_call_record(c) for c in await conn.execute(statement, params)]


def _history(before: bool) -> Select[Any]:
    """A customer's latest calls (built once: every screen-pop runs it)."""
    query = select(Call.__table__).where(Call.customer_id == bindparam("customer"))
    if before:
        query = query.where(Call.arrived_at < bindparam("before"))
    return query.order_by(Call.arrived_at.desc(), Call.id.desc()).limit(bindparam("limit"))


_HISTORY, _HISTORY_BEFORE = _history(False), _history(True)


def _call_record(c: Call | Row[Any]) -> CallRecord:
    return CallRecord(
        id=c.id,
        channel=c.channel,
        caller_num=c.caller_num,
        caller_name=c.caller_name,
        dnis=c.dnis,
        queue=c.queue,
        first_queue=c.first_queue,
        customer_id=c.customer_id,
        arrived_at=c.arrived_at,
        queued_at=c.queued_at,
        first_offered_at=c.first_offered_at,
        answered_at=c.answered_at,
        ended_at=c.ended_at,
        agent_id=c.agent_id,
        offers=c.offers,
        outcome=c.outcome,
        wait=c.wait,
        wrapup_outcome=c.wrapup_outcome,
        wrapup_note=c.wrapup_note,
    )


def _offer_record(o: CallOffer) -> OfferRecord:
    return OfferRecord(o.call_id, o.attempt, o.agent_id, o.leg_id, o.offered_at, o.ended_at, o.result)


def _event_record(e: CallEvent) -> EventRecord:
    return EventRecord(e.id, e.at, e.call_id, e.agent_id, e.kind, dict(e.payload))
