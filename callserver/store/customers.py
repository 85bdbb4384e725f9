"""Customers in the database: imports, edits from the screen-pop, search, and lookups by number.

Numbers are stored in E.164 (`store/phones.py`) with their last digits as an indexed `tail`, so a
caller ID in national form (0140000001) still finds +33 1 40 00 00 01. The CSV format itself is
`store/customer_csv.py`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from callserver.store.customer_csv import CustomerRow
from callserver.store.models import Customer, CustomerFieldRow, CustomerPhone
from callserver.store.reads import Plan
from callserver.store.records import CustomerFields, CustomerRecord

TAIL = 8
_SEPARATORS = re.compile(r"[\s().\-/]")
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
_PHONE_QUERY = re.compile(r"^[+0-9][0-9\s().\-/]{2,}$")


def normalise_number(raw: str) -> str | None:
    """Digits with a leading + for international form ('00' counts as '+'); None if not a number."""
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    return text if _NUMBER.match(text) else None


def tail_of(number: str) -> str:
    return number.lstrip("+")[-TAIL:]


def same_number(a: str, b: str) -> bool:
    """Equal, or one national (trunk 0) and one international form of the same subscriber."""
    da, db = a.lstrip("+"), b.lstrip("+")
    if da == db:
        return True
    for intl, national in ((a, b), (b, a)):
        if intl.startswith("+") and national.startswith("0") and not national.startswith("00"):
            rest = national[1:]
            prefix = len(intl) - 1 - len(rest)
            if 1 <= prefix <= 3 and len(rest) >= 6 and intl.endswith(rest):
                return True
    return False


@dataclass(frozen=True, slots=True)
class ImportCounts:
    created: int = 0
    updated: int = 0
    skipped: int = 0  # already known and left as they are (no `update`)


async def import_rows(
    session: AsyncSession,
    rows: Sequence[CustomerRow],
    now: datetime,
    *,
    update: bool,
    progress: Callable[[int], None] | None = None,
    batch: int = 500,
) -> ImportCounts:
    """Add the rows' customers inside the caller's transaction; a customer already known (same
    account, else one of the same phones) is overwritten only when `update` is set.

    Known customers are looked up a batch at a time, so a file of 100,000 rows costs a few hundred
    queries rather than two per row. `progress(n)` is told of each `n` rows done.
    """
    created = updated = skipped = 0
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        accounts = [r.account for r in chunk if r.account is not None]
        by_account: dict[str, int] = {}
        if accounts:
            found = await session.execute(
                select(Customer.account, Customer.id).where(Customer.account.in_(accounts))
            )
            by_account = {str(a): int(i) for a, i in found}
        numbers = [n for r in chunk for n, _ in r.phones]
        by_number: dict[str, int] = {}
        for number, customer_id in await session.execute(
            select(CustomerPhone.number, CustomerPhone.customer_id)
            .where(CustomerPhone.number.in_(numbers))
            .order_by(CustomerPhone.customer_id.desc())
        ):
            by_number[number] = customer_id  # the oldest customer wins (ids descending)
        for row in chunk:
            known = by_account.get(row.account) if row.account is not None else None
            if known is None:
                known = next((by_number[n] for n, _ in row.phones if n in by_number), None)
            if known is not None and not update:
                skipped += 1
                continue
            customer_id = await _write_row(session, known, row, now)
            if known is None:
                created += 1
            else:
                updated += 1
            # later rows of the same file see this one (duplicates in a file merge, as on reload)
            if row.account is not None:
                by_account[row.account] = customer_id
            for n, _ in row.phones:
                by_number.setdefault(n, customer_id)
        if progress is not None:
            progress(len(chunk))
    return ImportCounts(created, updated, skipped)


async def _write_row(session: AsyncSession, customer_id: int | None, row: CustomerRow, now: datetime) -> int:
    customer = await session.get(Customer, customer_id) if customer_id is not None else None
    if customer is None:
        customer = Customer(created_at=now)
        session.add(customer)
    customer.name = row.name
    customer.account = row.account if row.account is not None else customer.account
    customer.language = row.language
    customer.vip = row.vip
    customer.notes = row.notes
    customer.email = row.email if row.email is not None else customer.email
    customer.updated_at = now
    await session.flush()
    await session.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == customer.id))
    session.add_all(
        CustomerPhone(customer_id=customer.id, number=n, tail=tail_of(n), raw=raw[:64])
        for n, raw in row.phones
    )
    await set_extra_fields(session, customer.id, dict(row.extra), now)
    await session.flush()
    return customer.id


async def set_extra_fields(
    session: AsyncSession, customer_id: int, values: Mapping[str, str], now: datetime
) -> None:
    """Replace the given extra fields (canonical text), keep the others."""
    for name, value in values.items():
        row = await session.get(CustomerFieldRow, (customer_id, name))
        if row is None:
            row = CustomerFieldRow(customer_id=customer_id, name=name)
            session.add(row)
        row.value, row.updated_at = value, now


async def extra_fields(session: AsyncSession, customer_id: int) -> dict[str, str]:
    """The customer's extra fields as stored (canonical text)."""
    query = select(CustomerFieldRow.name, CustomerFieldRow.value).where(
        CustomerFieldRow.customer_id == customer_id
    )
    return {name: value for name, value in await session.execute(query)}


class CustomerConflict(Exception):
    """Another customer already has that account number."""


async def save_customer(
    session: AsyncSession, customer_id: int | None, fields: CustomerFields, now: datetime
) -> int | None:
    """Create (`customer_id` None) or replace a customer and their phones; returns the id, or None
    when there is no such customer. Raises CustomerConflict when the account is taken."""
    if fields.account is not None:
        other = await session.scalar(select(Customer.id).where(Customer.account == fields.account))
        if other is not None and other != customer_id:
            raise CustomerConflict(fields.account)
    if customer_id is None:
        customer = Customer(created_at=now)
        session.add(customer)
    else:
        found = await session.get(Customer, customer_id)
        if found is None:
            return None
        customer = found
    customer.name, customer.account, customer.email = fields.name, fields.account, fields.email
    customer.language, customer.vip, customer.notes = fields.language, fields.vip, fields.notes
    customer.updated_at = now
    await session.flush()
    await session.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == customer.id))
    session.add_all(
        CustomerPhone(customer_id=customer.id, number=n, tail=tail_of(n), raw=n) for n in fields.phones
    )
    await session.flush()
    return customer.id


async def customer_ids_for_number(session: AsyncSession, number: str) -> list[int]:
    """Customers owning `number` or a national/international variant of it, oldest first."""
    normalised = normalise_number(number)
    if normalised is None:
        return []
    result = await session.execute(
        select(CustomerPhone.customer_id, CustomerPhone.number)
        .where(CustomerPhone.tail == tail_of(normalised))
        .order_by(CustomerPhone.customer_id)
    )
    ids: list[int] = []
    for customer_id, stored in result:
        if same_number(normalised, stored) and customer_id not in ids:
            ids.append(customer_id)
    return ids


def _by_tail() -> Select[Any]:
    """The phone that matched a tail, its customer, and that customer's phones; built once (the
    search runs on every inbound call)."""
    matched = aliased(CustomerPhone)
    customers = Customer.__table__
    return (
        select(customers, matched.number.label("matched"), CustomerPhone.number.label("phone"))
        .join(matched, matched.customer_id == customers.c.id)
        .join(CustomerPhone, CustomerPhone.customer_id == customers.c.id)
        .where(matched.tail == bindparam("tail"))
        .order_by(customers.c.id, matched.id, CustomerPhone.id)
    )


_BY_TAIL = _by_tail()


def customers_for_number(number: str) -> Plan[list[CustomerRecord]]:
    """The customers owning `number` or a variant of it, oldest first, with all their phones, in
    one query (a plan for `store/reads.py`: it runs on every inbound call)."""
    normalised = normalise_number(number)
    if normalised is None:
        return []
    found: dict[int, tuple[Any, list[str], bool]] = {}
    for row in (yield _BY_TAIL, {"tail": tail_of(normalised)}):
        customer, phones, same = found.get(row.id) or (row, [], False)
        if row.phone not in phones:
            phones.append(row.phone)
        found[row.id] = (customer, phones, same or same_number(normalised, row.matched))
    return [_record(c, phones) for c, phones, same in found.values() if same]


async def customer_records(session: AsyncSession, ids: Sequence[int]) -> list[CustomerRecord]:
    if not ids:
        return []
    customers = (await session.scalars(select(Customer).where(Customer.id.in_(ids)))).all()
    phones: dict[int, list[str]] = {i: [] for i in ids}
    for customer_id, number in await session.execute(
        select(CustomerPhone.customer_id, CustomerPhone.number)
        .where(CustomerPhone.customer_id.in_(ids))
        .order_by(CustomerPhone.id)
    ):
        phones[customer_id].append(number)
    by_id = {c.id: c for c in customers}
    return [_record(by_id[i], phones[i]) for i in ids if i in by_id]


def _record(c: Customer | Any, phones: list[str]) -> CustomerRecord:
    """A record from an ORM customer or a row with the same columns."""
    return CustomerRecord(
        id=c.id,
        name=c.name,
        phones=tuple(phones),
        account=c.account,
        email=c.email,
        language=c.language,
        vip=c.vip,
        notes=c.notes,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


async def search(
    session: AsyncSession, query: str, *, limit: int, offset: int
) -> tuple[list[CustomerRecord], int]:
    """Customers whose name or e-mail contains `query`, whose account is `query`, or who have a
    phone containing its digits; by name. Returns one page and the number of matches."""
    condition = _matching(query.strip())
    ids_query = select(Customer.id)
    count_query = select(func.count()).select_from(Customer)
    if condition is not None:
        ids_query, count_query = ids_query.where(condition), count_query.where(condition)
    total = int(await session.scalar(count_query) or 0)
    ids = list(
        await session.scalars(
            ids_query.order_by(func.lower(Customer.name), Customer.id).limit(limit).offset(offset)
        )
    )
    return await customer_records(session, ids), total


def _matching(query: str) -> ColumnElement[bool] | None:
    if not query:
        return None
    text = query.lower()
    options: list[ColumnElement[bool]] = [
        func.lower(Customer.name).contains(text, autoescape=True),
        func.lower(Customer.email).contains(text, autoescape=True),
        Customer.account == query,
    ]
    if _PHONE_QUERY.match(query):
        # national or international, the subscriber digits are the same: drop the trunk zeros
        digits = re.sub(r"[^0-9]", "", query).lstrip("0")
        if len(digits) >= 3:
            options.append(
                Customer.id.in_(
                    select(CustomerPhone.customer_id).where(
                        CustomerPhone.number.contains(digits, autoescape=True)
                    )
                )
            )
    return or_(*options)


async def all_records(session: AsyncSession, batch: int = 500) -> AsyncIterator[list[CustomerRecord]]:
    """Every customer by id, a batch at a time (exports stream without holding them all)."""
    last = 0
    while True:
        ids = list(
            await session.scalars(
                select(Customer.id).where(Customer.id > last).order_by(Customer.id).limit(batch)
            )
        )
        if not ids:
            return
        yield await customer_records(session, ids)
        last = ids[-1]


def now_utc() -> datetime:
    return datetime.now(UTC)
