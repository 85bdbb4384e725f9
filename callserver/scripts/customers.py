"""The customer record as a script reads it: the record's own fields and the configured extra fields,
typed (`customer.balance` is an amount, not text); and identifying a customer on the web by an
account number and a second factor.
"""

from __future__ import annotations

import hmac
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Protocol

from callserver.store.fieldtypes import FieldValueError, canonical, typed
from callserver.store.records import CustomerRecord


class CustomerDirectory(Protocol):
    """What is needed of the store."""

    async def customer(self, customer_id: int) -> CustomerRecord | None: ...

    async def find_customers_by_number(self, number: str) -> list[CustomerRecord]: ...

    async def find_customer_by_account(self, account: str) -> CustomerRecord | None: ...

    async def customer_fields(self, customer_id: int) -> dict[str, str]: ...


class ScriptCustomers:
    def __init__(self, directory: CustomerDirectory, field_types: Mapping[str, str]) -> None:
        self._directory = directory
        self.field_types = dict(field_types)

    async def record(self, customer_id: int) -> dict[str, object] | None:
        """The customer as a script's `customer.*`; None when there is no such customer."""
        found = await self._directory.customer(customer_id)
        if found is None:
            return None
        return await self._mapping(found)

    async def for_call(self, customer_id: int | None, caller_num: str) -> dict[str, object] | None:
        """The call's customer: the one the IVR identified, else the only one with the caller's number."""
        if customer_id is not None:
            found = await self.record(customer_id)
            if found is not None:
                return found
        if not caller_num:
            return None
        matches = await self._directory.find_customers_by_number(caller_num)
        return await self._mapping(matches[0]) if len(matches) == 1 else None

    async def identify(self, account: str, factor: str, given: str) -> dict[str, object] | None:
        """The customer whose account is `account` and whose `factor` field matches `given`.

        Both are compared in a normalised form (case, accents, spaces and punctuation ignored;
        dates as days), in constant time, and a customer without that field never matches."""
        found = await self._directory.find_customer_by_account(account.strip()[:64])
        if found is None:
            return None
        record = await self._mapping(found)
        stored = record.get(factor)
        if stored is None or stored == "":
            return None
        kind = self.field_types.get(factor, "text")
        if not hmac.compare_digest(_normalised(kind, _as_text(stored)), _normalised(kind, given)):
            return None
        return record

    async def _mapping(self, c: CustomerRecord) -> dict[str, object]:
        data: dict[str, object] = {
            "id": c.id,
            "name": c.name,
            "account": c.account or "",
            "email": c.email or "",
            "language": c.language or "",
            "vip": c.vip,
            "notes": c.notes,
            "phone": c.phones[0] if c.phones else "",
        }
        for name, text in (await self._directory.customer_fields(c.id)).items():
            kind = self.field_types.get(name)
            if kind is not None:
                data[name] = typed(kind, text)
        return data


def _as_text(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _normalised(kind: str, text: str) -> bytes:
    try:
        value = canonical(kind, text[:200]) if kind != "text" else text[:200]
    except FieldValueError:
        value = text[:200]
    folded = unicodedata.normalize("NFKD", value.casefold())
    kept = "".join(ch for ch in folded if ch.isalnum())
    return kept.encode()
