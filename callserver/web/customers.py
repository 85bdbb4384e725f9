"""Creating and editing customers from a screen-pop: validating what the browser sent.

Validation reuses the store's number and language rules so a customer typed in by an agent looks
exactly like one loaded from a CSV file: phones in E.164, national forms read in the configured
`customers.default_region` (passed as the validation context). Errors come back as
`field: problem` strings; the store does the writing.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from callserver.store.customers import CustomerConflict
from callserver.store.phones import PhoneError, to_e164
from callserver.store.records import CustomerFields, CustomerRecord
from callserver.store.store import Store

_LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


__all__ = ["CustomerConflict", "CustomerInput", "CustomerWriter", "parse_customer"]


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
    def _numbers(cls, v: list[str], info: ValidationInfo) -> list[str]:
        region = (info.context or {}).get("region")
        out: list[str] = []
        for raw in v:
            try:
                number = to_e164(raw, region)
            except PhoneError as err:
                raise ValueError(str(err)) from None
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


def parse_customer(body: Any, region: str | None = None) -> tuple[CustomerInput | None, list[str]]:
    """The customer in `body`, or the problems found; national numbers are read in `region`."""
    try:
        return CustomerInput.model_validate(body, context={"region": region}), []
    except ValidationError as err:
        problems = []
        for item in err.errors():
            where = ".".join(str(p) for p in item["loc"]) or "(body)"
            problems.append(f"{where}: {str(item['msg']).removeprefix('Value error, ')}")
        return None, problems


class CustomerWriter:
    """The write side of customers for the web front; CustomerConflict when the account is taken."""

    def __init__(self, store: Store, *, region: str | None = None) -> None:
        self._store = store
        self.region = region  # customers.default_region: how national numbers are read

    async def create(self, data: CustomerInput) -> CustomerRecord:
        return await self._store.create_customer(_fields(data))

    async def update(self, customer_id: int, data: CustomerInput) -> CustomerRecord | None:
        return await self._store.update_customer(customer_id, _fields(data))


def _fields(data: CustomerInput) -> CustomerFields:
    return CustomerFields(
        name=data.name,
        phones=tuple(data.phones),
        account=data.account,
        email=data.email,
        language=data.language,
        vip=data.vip,
        notes=data.notes,
    )
