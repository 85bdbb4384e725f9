"""The store: one async engine, config mirrored into agents/queues, customers, facts applied in
batches, and read queries that return frozen records.

Open it once in the composition root (`await Store.open(url)`), hand it to the FactWriter, the
HTTP API and the voicemail repository, and `await store.close()` at shutdown so no connection is
left behind. Call rows change only through `apply` (the FactWriter): there is no other write.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from callserver import jsontext
from callserver.acd.specs import queue_spec
from callserver.config import Settings
from callserver.facts.model import Fact
from callserver.facts.replay import fact_from_record
from callserver.store import call_search, customer_csv, scripts
from callserver.store import customers as cust
from callserver.store.contact import ContactHistory, contact_histories
from callserver.store.customers import CustomerConflict
from callserver.store.facts import CallRows, apply_facts
from callserver.store.migrate import upgrade
from callserver.store.models import Agent, AgentStateRow, Call, CallEvent, CallOffer, Customer, Queue
from callserver.store.reads import EngineReads, Reads, reads_for
from callserver.store.records import (
    AgentInterval,
    CallRecord,
    CustomerFields,
    CustomerRecord,
    EventRecord,
    LoadReport,
    OfferRecord,
    OpenCallRecord,
    ScriptRunRecord,
)
from callserver.store.rows import call_record, event_record


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


POOL_SIZE = 20
POOL_OVERFLOW = 20


class Store:
    def __init__(self, engine: AsyncEngine, reads: Reads | None = None) -> None:
        self._engine = engine
        # the reads of every call (caller lookup, pop history): `store/reads.py`
        self._reads = reads if reads is not None else EngineReads(engine, owned=False)
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._hasher = PasswordHasher()
        self._call_rows = CallRows()  # the calls rows the fact batches left, see CallRows
        self._applying = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True, region: str | None = None) -> Store:
        """Connect, bringing the schema up to date first unless `migrate` is False (`region`:
        customers.default_region, for numbers an older release kept in national form)."""
        if migrate:
            await upgrade(url, region=region)
        # enough connections kept open for the busy hour: pops, caller lookups, the fact writer,
        # the report writer and web requests at once. Past the pool a connection is opened and
        # closed for each use (on SQLite a thread started and stopped each time).
        # JSON columns (every fact's payload) through the compiled encoder: `callserver/jsontext.py`
        engine = create_async_engine(
            url,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            json_serializer=jsontext.dumps,
            json_deserializer=jsontext.loads,
        )
        if make_url(url).get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine, reads_for(url, engine))

    async def close(self) -> None:
        await self._reads.close()
        await self._engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        """The engine, for stores of capabilities with tables of their own (the report tables)."""
        return self._engine

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
                # the row mirrors what the engine was given: the same translation, not a second one
                spec = queue_spec(qc, settings.acd.wrapup)
                timeout = spec.timeout_destination()
                qrow = queues.get(spec.name) or Queue(name=spec.name)
                qrow.dnis, qrow.skills = list(qc.dnis), sorted(spec.skills)
                qrow.max_wait, qrow.ring_timeout, qrow.wrapup = spec.max_wait, spec.ring_timeout, spec.wrapup
                qrow.on_timeout_queue = timeout.target if timeout.kind == "queue" else None
                qrow.on_timeout_message = timeout.target if timeout.kind == "message" else None
                qrow.active = True
                s.add(qrow)

    def _hash(self, password: str | None, current: str | None) -> str | None:
        """Keep the stored hash when it still matches, so a restart does not rewrite every row."""
        if password is None:
            return None
        if password.startswith("$argon2"):
            return password  # already a hash (`callserver passwd`): hashing it again would lock the agent out
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

    async def load_customers(
        self,
        path: Path,
        fields: Mapping[str, str] | None = None,
        *,
        update: bool = True,
        region: str | None = None,
    ) -> LoadReport:
        """Load a customers file leniently (the seed at start-up): bad rows are reported and left
        out, good rows load in one go. A customer already known is overwritten only with `update`.
        `fields` names the configured extra fields (`customers.fields`) with their types: their
        columns are loaded too."""
        read = customer_csv.read_path(Path(path), region, extra=fields)
        async with self._sessions.begin() as s:
            counts = await cust.import_rows(s, read.rows, cust.now_utc(), update=update)
        return LoadReport(
            str(path), counts.created, counts.updated, tuple(read.messages(str(path))), counts.skipped
        )

    async def import_customers(
        self,
        rows: Sequence[customer_csv.CustomerRow],
        *,
        update: bool,
        progress: Callable[[int], None] | None = None,
    ) -> cust.ImportCounts:
        """Import rows already checked, all in one transaction: every row lands, or none does."""
        async with self._sessions.begin() as s:
            return await cust.import_rows(s, rows, cust.now_utc(), update=update, progress=progress)

    async def search_customers(
        self, query: str, *, limit: int, offset: int = 0
    ) -> tuple[list[CustomerRecord], int]:
        """One page of the customers matching `query` (all of them when it is empty) and how many match."""
        async with self._sessions() as s:
            return await cust.search(s, query, limit=limit, offset=offset)

    async def export_customers(self, batch: int = 500) -> AsyncIterator[list[CustomerRecord]]:
        """Every customer, by id, a batch at a time."""
        async with self._sessions() as s:
            async for records in cust.all_records(s, batch):
                yield records

    async def find_customers_by_number(self, number: str) -> list[CustomerRecord]:
        # on every inbound call: one query where it costs the loop least (`store/reads.py`)
        return await self._reads.run(lambda: cust.customers_for_number(number))

    async def contact_histories(
        self, customer_ids: Sequence[int], *, limit: int, until: datetime, exclude: Sequence[str] = ()
    ) -> dict[int, ContactHistory]:
        """The screen-pop's history of each customer (`store/contact.py`): one connection for all."""
        if not customer_ids:
            return {}
        return await self._reads.run(
            lambda: contact_histories(customer_ids, limit=limit, until=until, exclude=exclude)
        )

    async def find_customer_by_account(self, account: str) -> CustomerRecord | None:
        async with self._sessions() as s:
            found = await s.scalar(select(Customer.id).where(Customer.account == account.strip()))
            records = await cust.customer_records(s, [found] if found is not None else [])
            return records[0] if records else None

    async def customer(self, customer_id: int) -> CustomerRecord | None:
        async with self._sessions() as s:
            records = await cust.customer_records(s, [customer_id])
            return records[0] if records else None

    async def customer_fields(self, customer_id: int) -> dict[str, str]:
        """The customer's extra fields (`customers.fields`) as canonical text; empty when none."""
        async with self._sessions() as s:
            return await cust.extra_fields(s, customer_id)

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
        # one batch at a time (the FactWriter's one task already does so): the rows a batch keeps
        # must not be overtaken by a batch that read them before it committed
        async with self._applying:
            async with self._sessions.begin() as s:
                batch = await apply_facts(s, facts, self._call_rows)
            self._call_rows.keep(batch.calls)  # committed: what the table now holds

    # --- reading -------------------------------------------------------------------------------

    async def call(self, call_id: str) -> CallRecord | None:
        async with self._sessions() as s:
            row = await s.get(Call, call_id)
            return call_record(row) if row is not None else None

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
            return [call_record(c) for c in (await s.scalars(query)).all()]

    async def search_calls(
        self,
        query: call_search.CallQuery,
        *,
        region: str | None = None,
        task_voicemail: call_search.TaskVoicemail | None = None,
    ) -> call_search.CallPage:
        """One page of the calls matching `query`, newest first (`region`: how national caller
        numbers are read, customers.default_region; `task_voicemail`: which voicemail a task's
        call id stands for)."""
        async with self._sessions() as s:
            return await call_search.search_calls(s, query, region, task_voicemail or call_search.no_tasks)

    async def call_history(
        self, call_id: str, *, task_voicemail: call_search.TaskVoicemail | None = None
    ) -> call_search.CallHistory | None:
        """The call's row, its logged facts, voicemail and script runs (for its timeline)."""
        async with self._sessions() as s:
            return await call_search.call_history(s, call_id, task_voicemail or call_search.no_tasks)

    async def offers(self, call_id: str) -> list[OfferRecord]:
        query = (
            select(CallOffer).where(CallOffer.call_id == call_id).order_by(CallOffer.offered_at, CallOffer.id)
        )
        async with self._sessions() as s:
            return [_offer_record(o) for o in (await s.scalars(query)).all()]

    async def call_events(self, call_id: str) -> list[EventRecord]:
        query = select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
        async with self._sessions() as s:
            return [event_record(e) for e in (await s.scalars(query)).all()]

    async def event_count(self) -> int:
        async with self._sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(CallEvent)) or 0)

    async def open_calls(self) -> list[OpenCallRecord]:
        """Calls with no outcome yet, oldest first: at start-up, the ones a stop left open."""
        last_fact = (
            select(CallEvent.call_id, func.max(CallEvent.at).label("last_seen"))
            .where(CallEvent.call_id.in_(select(Call.id).where(Call.outcome.is_(None))))
            .group_by(CallEvent.call_id)
            .subquery()
        )
        query = (
            select(Call, last_fact.c.last_seen)
            .outerjoin(last_fact, last_fact.c.call_id == Call.id)
            .where(Call.outcome.is_(None))
            .order_by(Call.arrived_at, Call.id)
        )
        offers = (
            select(CallOffer.call_id, CallOffer.agent_id, CallOffer.leg_id)
            .join(Call, Call.id == CallOffer.call_id)
            .where(Call.outcome.is_(None), CallOffer.ended_at.is_(None), CallOffer.result.is_(None))
            .order_by(CallOffer.id)
        )
        async with self._sessions() as s:
            rows = (await s.execute(query)).all()
            open_offers: dict[str, list[tuple[str, str]]] = {}
            for call_id, agent_id, leg_id in await s.execute(offers):
                open_offers.setdefault(call_id, []).append((agent_id, leg_id))
        return [
            OpenCallRecord(
                id=c.id,
                queue=c.queue,
                channel=c.channel,
                caller_num=c.caller_num,
                caller_name=c.caller_name,
                dnis=c.dnis,
                arrived_at=c.arrived_at,
                answered_at=c.answered_at,
                agent_id=c.agent_id,
                # SQLite hands the aggregate back as text-less naive time: read it as UTC
                last_seen=_as_utc(last_seen) if last_seen is not None else c.arrived_at,
                open_offers=tuple(open_offers.get(c.id, ())),
            )
            for c, last_seen in rows
        ]

    async def counts_by_outcome(self) -> dict[str, int]:
        """Finished calls per outcome; calls still in progress are not counted."""
        query = select(Call.outcome, func.count()).where(Call.outcome.is_not(None)).group_by(Call.outcome)
        async with self._sessions() as s:
            return {str(outcome): int(n) for outcome, n in await s.execute(query)}

    async def script_runs(
        self,
        *,
        script_id: str | None = None,
        customer_id: int | None = None,
        call_id: str | None = None,
        agent_id: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[ScriptRunRecord]:
        """Dialogue-script runs with their answers, newest first (the contact history, the export)."""
        async with self._sessions() as s:
            return await scripts.find_runs(
                s,
                script_id=script_id,
                customer_id=customer_id,
                call_id=call_id,
                agent_id=agent_id,
                status=status,
                since=since,
                until=until,
                limit=limit,
            )

    async def facts_since(self, since: datetime) -> list[Fact]:
        """Every fact logged at or after `since`, in the order it was published (a restarted
        server replays today's into its live figures)."""
        query = select(CallEvent.kind, CallEvent.payload).where(CallEvent.at >= since).order_by(CallEvent.id)
        async with self._sessions() as s:
            rows = (await s.execute(query)).all()
        return [fact for kind, payload in rows if (fact := fact_from_record(kind, payload)) is not None]

    async def iter_facts(self, since: datetime, until: datetime, batch: int = 2000) -> AsyncIterator[Fact]:
        """Every fact logged in [since, until), in the order it was published, read a batch at a time
        (an export of a month never holds the month in memory)."""
        last = 0
        while True:
            query = (
                select(CallEvent.id, CallEvent.kind, CallEvent.payload)
                .where(CallEvent.at >= since, CallEvent.at < until, CallEvent.id > last)
                .order_by(CallEvent.id)
                .limit(batch)
            )
            async with self._sessions() as s:
                rows = (await s.execute(query)).all()
            for _id, kind, payload in rows:
                fact = fact_from_record(kind, payload)
                if fact is not None:
                    yield fact
            if len(rows) < batch:
                return
            last = rows[-1][0]

    async def stream_facts(self, since: datetime | None = None, batch: int = 2000) -> AsyncIterator[Fact]:
        """Every fact logged (at or after `since`) in published order, read in batches: a rebuild
        of the report tables walks months of them without holding them all."""
        query = select(CallEvent.kind, CallEvent.payload).order_by(CallEvent.id)
        if since is not None:
            query = query.where(CallEvent.at >= since)
        async with self._sessions() as s, s.begin():
            result = await s.stream(query.execution_options(yield_per=batch))
            async for partition in result.partitions(batch):
                for kind, payload in partition:
                    fact = fact_from_record(kind, payload)
                    if fact is not None:
                        yield fact

    async def answers_by_agent(self, since: datetime) -> dict[str, int]:
        """Calls (and voicemail tasks) each agent answered at or after `since`, from the fact log."""
        query = (
            select(CallEvent.agent_id, func.count())
            .where(CallEvent.kind == "CallAnswered", CallEvent.at >= since, CallEvent.agent_id.is_not(None))
            .group_by(CallEvent.agent_id)
        )
        async with self._sessions() as s:
            return {str(agent): int(n) for agent, n in await s.execute(query)}

    async def recent_numbers(self, agent_id: str, limit: int = 8) -> list[str]:
        """Outside numbers this agent transferred or consulted to lately, newest first, each once."""
        query = (
            select(CallEvent.payload)
            .where(
                CallEvent.agent_id == agent_id, CallEvent.kind.in_(("CallTransferred", "TransferProgress"))
            )
            .order_by(CallEvent.id.desc())
            .limit(200)
        )
        numbers: list[str] = []
        async with self._sessions() as s:
            for payload in (await s.scalars(query)).all():
                if payload.get("kind") == "number":
                    number = str(payload.get("target", ""))
                    if number and number not in numbers:
                        numbers.append(number)
        return numbers[:limit]

    async def agent_intervals(
        self, *, agent_id: str | None = None, since: datetime | None = None
    ) -> list[AgentInterval]:
        """Agent state intervals in the order they started (`since`: started or still open then)."""
        query = select(AgentStateRow)
        if agent_id is not None:
            query = query.where(AgentStateRow.agent_id == agent_id)
        if since is not None:
            query = query.where((AgentStateRow.ended_at.is_(None)) | (AgentStateRow.ended_at >= since))
        query = query.order_by(AgentStateRow.started_at, AgentStateRow.id)
        async with self._sessions() as s:
            return [
                AgentInterval(r.agent_id, r.kind, r.state, r.reason, r.call_id, r.started_at, r.ended_at)
                for r in (await s.scalars(query)).all()
            ]

    async def contact_history(
        self,
        customer_id: int,
        limit: int = 10,
        *,
        before: str | None = None,
        until: datetime | None = None,
        exclude: Sequence[str] = (),
    ) -> list[CallRecord]:
        """The customer's calls, newest first; `before` leaves out that call and later ones,
        `until` the calls that arrived at or after it, `exclude` the calls named."""
        query = select(Call).where(Call.customer_id == customer_id)
        skip = [*exclude, *([before] if before is not None else [])]
        if skip:
            query = query.where(Call.id.not_in(skip))
        async with self._sessions() as s:
            if before is not None:
                current = await s.get(Call, before)
                if current is not None:
                    until = current.arrived_at if until is None else min(until, current.arrived_at)
            if until is not None:
                query = query.where(Call.arrived_at < until)
            query = query.order_by(Call.arrived_at.desc(), Call.id.desc()).limit(limit)
            return [call_record(c) for c in (await s.scalars(query)).all()]


def _as_utc(value: object) -> datetime:
    """An aggregate's time: SQLAlchemy does not apply the column type to `max()` on every backend."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a time: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _offer_record(o: CallOffer) -> OfferRecord:
    return OfferRecord(o.call_id, o.attempt, o.agent_id, o.leg_id, o.offered_at, o.ended_at, o.result)
