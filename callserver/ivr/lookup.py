"""The IVR's customer lookup: the store's directory, enriched with account figures such as a balance.

The store keeps who a customer is (`CustomerRecord`), not what they owe. Account figures come from a
separate `AccountFigures` source keyed by account number; the one provided reads the optional
`balance` column of the customers seed CSV (the store ignores columns it does not know), which suits
demos and tests. A deployment with a billing system supplies its own `AccountFigures`.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol

from callserver.ivr.runner import customer_view
from callserver.store.records import CustomerRecord

log = logging.getLogger(__name__)


class CustomerDirectory(Protocol):
    """What the lookup needs from the store."""

    async def find_customers_by_number(self, number: str) -> list[CustomerRecord]: ...

    async def find_customer_by_account(self, account: str) -> CustomerRecord | None: ...

    async def customer(self, customer_id: int) -> CustomerRecord | None: ...


class AccountFigures(Protocol):
    async def figures(self, account: str) -> Mapping[str, object]:
        """Extra customer fields for `account` (e.g. `balance`); empty when none are known."""
        ...


class StaticFigures:
    """Account figures held in memory: account -> {field: value}."""

    def __init__(self, by_account: Mapping[str, Mapping[str, object]] | None = None) -> None:
        self._by_account = dict(by_account or {})

    async def figures(self, account: str) -> Mapping[str, object]:
        return self._by_account.get(account.strip(), {})

    @classmethod
    def from_seed_csv(cls, path: Path) -> StaticFigures:
        """Balances from the `account` and `balance` columns of a customers CSV (none: empty).

        Unreadable rows are skipped with a warning: the IVR then says nothing about a balance
        rather than a wrong one.
        """
        found: dict[str, Mapping[str, object]] = {}
        try:
            handle = path.open(newline="", encoding="utf-8-sig")
        except OSError as err:
            log.warning("account figures: cannot read %s: %s", path, err.strerror)
            return cls()
        with handle:
            reader = csv.DictReader(handle)
            if "balance" not in (reader.fieldnames or []):
                return cls()
            for line, row in enumerate(reader, start=2):
                account, raw = (row.get("account") or "").strip(), (row.get("balance") or "").strip()
                if not account or not raw:
                    continue
                try:
                    found[account] = {"balance": Decimal(raw)}
                except InvalidOperation:
                    log.warning("account figures: %s:%d: balance %r is not a number", path, line, raw)
        return cls(found)


class StoreLookup:
    """`CustomerLookup` for `run_flow`: by phone, account or id; records enriched with figures.

    `email` lookups find nobody: the store has no index on e-mail addresses.
    """

    def __init__(self, directory: CustomerDirectory, figures: AccountFigures | None = None) -> None:
        self._directory = directory
        self._figures = figures or StaticFigures()

    async def __call__(self, by: str, value: str) -> Sequence[Mapping[str, object]]:
        records: list[CustomerRecord] = []
        if by == "phone":
            records = await self._directory.find_customers_by_number(value)
        elif by == "account":
            found = await self._directory.find_customer_by_account(value)
            records = [found] if found is not None else []
        elif by == "id" and value.strip().isdigit():
            found = await self._directory.customer(int(value))
            records = [found] if found is not None else []
        return [await self._enrich(r) for r in records]

    async def _enrich(self, record: CustomerRecord) -> Mapping[str, object]:
        view = dict(customer_view(record))
        if record.account:
            view.update(await self._figures.figures(record.account))
        return view
