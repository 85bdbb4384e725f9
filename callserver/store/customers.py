"""Customers: phone number normalisation, the CSV seed format, and lookups by number or account.

Numbers are stored normalised (digits, leading + when international) with their last digits as an
indexed `tail`, so a caller ID in national form (0140000001) still finds +33 1 40 00 00 01.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from callserver.store.models import Customer, CustomerPhone
from callserver.store.records import CustomerFields, CustomerRecord

TAIL = 8
_SEPARATORS = re.compile(r"[\s().\-/]")
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2})?$")
_TRUE = {"1", "true", "yes", "y", "vip"}
_FALSE = {"", "0", "false", "no", "n"}
REQUIRED = ("name", "phones")
KNOWN = ("name", "phones", "account", "language", "vip", "notes", "email")


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
class CustomerRow:
    """One valid line of the seed file."""

    line: int
    name: str
    phones: tuple[tuple[str, str], ...]  # (normalised, as written)
    account: str | None
    language: str | None
    vip: bool
    notes: str
    email: str | None


def parse_csv(path: Path) -> tuple[list[CustomerRow], list[str]]:
    """Read the seed file; bad rows become `file:line: problem` messages and are left out."""
    rows: list[CustomerRow] = []
    errors: list[str] = []
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as err:
        return [], [f"{path}: cannot read file: {err.strerror}"]
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            return [], [f"{path}:1: missing column(s) {', '.join(missing)}"]
        reader.fieldnames = header
        try:
            for record in reader:
                where = f"{path}:{reader.line_num}"
                row, problems = _parse_row(record, reader.line_num)
                errors.extend(f"{where}: {p}" for p in problems)
                if row is not None:
                    rows.append(row)
        except (csv.Error, UnicodeDecodeError) as err:
            errors.append(f"{path}:{reader.line_num}: unreadable CSV: {err}")
    return rows, errors


def _parse_row(record: dict[str, str | None], line: int) -> tuple[CustomerRow | None, list[str]]:
    if None in record:
        return None, ["more fields than the header has columns"]
    get = {k: (record.get(k) or "").strip() for k in KNOWN}
    problems: list[str] = []
    if not get["name"]:
        problems.append("name is empty")
    phones: list[tuple[str, str]] = []
    for raw in _split_phones(get["phones"]):
        number = normalise_number(raw)
        if number is None:
            problems.append(f"'{raw}' is not a phone number")
        elif number not in (n for n, _ in phones):
            phones.append((number, raw))
    if not phones and not any("phone number" in p for p in problems):
        problems.append("no phone number")
    vip = get["vip"].lower()
    if vip not in _TRUE | _FALSE:
        problems.append(f"vip must be yes/no, got '{get['vip']}'")
    if get["language"] and not _LANGUAGE.match(get["language"]):
        problems.append(f"'{get['language']}' is not a language code like fr or en-GB")
    if problems:
        return None, problems
    return CustomerRow(
        line=line,
        name=get["name"],
        phones=tuple(phones),
        account=get["account"] or None,
        language=get["language"] or None,
        vip=vip in _TRUE,
        notes=get["notes"],
        email=get["email"] or None,
    ), []


def _split_phones(text: str) -> Iterator[str]:
    for part in re.split(r"[;|]", text):
        if part.strip():
            yield part.strip()


async def upsert_customer(session: AsyncSession, row: CustomerRow, now: datetime) -> bool:
    """Insert or update by account, else by any phone number; True when a new row was made."""
    customer: Customer | None = None
    if row.account is not None:
        customer = await session.scalar(select(Customer).where(Customer.account == row.account))
    if customer is None:
        numbers = [n for n, _ in row.phones]
        customer = await session.scalar(
            select(Customer)
            .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
            .where(CustomerPhone.number.in_(numbers))
            .order_by(Customer.id)
            .limit(1)
        )
    created = customer is None
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
    await session.flush()
    return created


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


async def customers_for_number(conn: AsyncConnection, number: str) -> list[CustomerRecord]:
    """The customers owning `number` or a variant of it, oldest first, with all their phones, in
    one query."""
    normalised = normalise_number(number)
    if normalised is None:
        return []
    found: dict[int, tuple[Any, list[str], bool]] = {}
    for row in await conn.execute(_BY_TAIL, {"tail": tail_of(normalised)}):
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


def now_utc() -> datetime:
    return datetime.now(UTC)
