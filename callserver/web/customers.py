"""Creating and editing customers from a screen-pop: validation and the SQL the store lacks.

Validation reuses the store's number and language rules so a customer typed in by an agent looks
exactly like one loaded from the CSV seed. Errors come back as `field: problem` strings.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from callserver.store import customers as cust
from callserver.store.models import Customer, CustomerPhone
from callserver.store.records import CustomerRecord
from callserver.store.store import Store

_LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CustomerConflict(Exception):
    """Another customer already has that account number."""


class CustomerInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    phones: list[str] = Field(min_length=1, max_length=10)
    account: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    language: str | None = Field(default=None, max_length=16)
    vip: bool = False
    notes: str = Field(default="", max_length=4000)

    @field_validator("phones")
    @classmethod
    def _numbers(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for raw in v:
            number = cust.normalise_number(raw)
            if number is None:
                raise ValueError(f"'{raw}' is not a phone number")
            if number not in out:
                out.append(number)
        return out

    @field_validator("language")
    @classmethod
    def _language(cls, v: str | None) -> str | None:
        if v and not _LANGUAGE.match(v):
            raise ValueError(f"'{v}' is not a language code like fr or en-GB")
        return v or None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v and not _EMAIL.match(v):
            raise ValueError(f"'{v}' is not an e-mail address")
        return v or None

    @field_validator("account")
    @classmethod
    def _account(cls, v: str | None) -> str | None:
        return v or None


def parse_customer(body: Any) -> tuple[CustomerInput | None, list[str]]:
    try:
        return CustomerInput.model_validate(body), []
    except ValidationError as err:
        problems = []
        for item in err.errors():
            where = ".".join(str(p) for p in item["loc"]) or "(body)"
            problems.append(f"{where}: {str(item['msg']).removeprefix('Value error, ')}")
        return None, problems


class CustomerWriter:
    """The write side of customers for the web front, on the store's own sessions."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # the store exposes no customer writes yet; its session factory keeps us in its transactions
        self._sessions = store._sessions

    async def create(self, data: CustomerInput) -> CustomerRecord:
        record = await self._save(None, data)
        if record is None:
            raise RuntimeError("a customer just created could not be read back")
        return record

    async def update(self, customer_id: int, data: CustomerInput) -> CustomerRecord | None:
        return await self._save(customer_id, data)

    async def _save(self, customer_id: int | None, data: CustomerInput) -> CustomerRecord | None:
        now = cust.now_utc()
        try:
            async with self._sessions.begin() as s:
                if data.account is not None:
                    other = await s.scalar(select(Customer.id).where(Customer.account == data.account))
                    if other is not None and other != customer_id:
                        raise CustomerConflict(data.account)
                if customer_id is None:
                    row = Customer(created_at=now)
                    s.add(row)
                else:
                    found = await s.get(Customer, customer_id)
                    if found is None:
                        return None
                    row = found
                row.name, row.account, row.email = data.name, data.account, data.email
                row.language, row.vip, row.notes, row.updated_at = data.language, data.vip, data.notes, now
                await s.flush()
                await s.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == row.id))
                s.add_all(
                    CustomerPhone(customer_id=row.id, number=n, tail=cust.tail_of(n), raw=n)
                    for n in data.phones
                )
                saved_id = row.id
        except IntegrityError as err:
            raise CustomerConflict(str(data.account)) from err
        return await self._store.customer(saved_id)
