"""Self-service pages on a virtual clock: a page left alone expires and its run is recorded as
abandoned, moves are limited per page, identification failures per address and per account, and
the second factor is compared whatever its case, spaces or accents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal

import pytest

from callserver.config import SelfServiceConfig
from callserver.facts.model import Fact, ScriptRunEnded, ScriptRunStarted
from callserver.scripts.adapter import ScriptAdapter
from callserver.scripts.catalog import ScriptCatalog
from callserver.scripts.customers import ScriptCustomers
from callserver.scripts.read import load_script
from callserver.scripts.selfservice import SelfService, SelfServiceError
from callserver.store.records import CustomerRecord
from callserver.web.sessions import RateLimiter
from tests.scripts.helpers import BILLING, NOW

TYPES = {"balance": "amount", "postcode": "text", "payment_plan": "text"}


@dataclass
class Directory:
    """One customer, as the store would give her."""

    record: CustomerRecord = field(
        default_factory=lambda: CustomerRecord(
            7, "Jeanne Dupont", ("+33140000001",), "100101", None, "fr", False, "", NOW, NOW
        )
    )
    fields: dict[str, str] = field(
        default_factory=lambda: {"balance": "42.10", "postcode": "Saint-Étienne 42"}
    )

    async def customer(self, customer_id: int) -> CustomerRecord | None:
        return self.record if customer_id == 7 else None

    async def find_customers_by_number(self, number: str) -> list[CustomerRecord]:
        return [self.record] if number in self.record.phones else []

    async def find_customer_by_account(self, account: str) -> CustomerRecord | None:
        return self.record if account == self.record.account else None

    async def customer_fields(self, customer_id: int) -> dict[str, str]:
        return dict(self.fields) if customer_id == 7 else {}


@dataclass
class Clock:
    now: float = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


def pages(clock: Clock, facts: list[Fact], **config: object) -> SelfService:
    script, problems = load_script(BILLING)
    assert script is not None, problems
    customers = ScriptCustomers(Directory(), TYPES)
    adapter = ScriptAdapter(
        publish=facts.append,
        clock=clock,
        field_types=TYPES,
        writable=frozenset({"payment_plan"}),
        timezone="Europe/Paris",
        callback_time=time(9, 0),
        task_queue=None,
        logins={},
    )
    settings = SelfServiceConfig.model_validate({"factor": "postcode", "session_idle": 600, **config})
    return SelfService(
        ScriptCatalog(scripts={"billing": script}),
        customers,
        adapter,
        settings,
        publish=facts.append,
        clock=clock,
        timezone="Europe/Paris",
        limiters=lambda limit, window: RateLimiter(clock, limit, window),
    )


async def test_a_page_left_alone_expires_and_its_run_is_recorded_as_abandoned() -> None:
    clock, facts = Clock(), []
    service = pages(clock, facts)
    page, view = await service.start("billing", "10.0.0.1", account="100101", factor="saint etienne42")
    assert view["identified"] and view["texts"][0]["text"].startswith("Hello Jeanne Dupont")
    assert isinstance(facts[0], ScriptRunStarted) and facts[0].customer_id == 7
    clock.now += 599
    assert await service.sweep() == 0
    service.page(page.token, "billing")  # still there
    clock.now += 2
    assert await service.sweep() == 1
    ended = [f for f in facts if isinstance(f, ScriptRunEnded)]
    assert [(e.call_id, e.ended_as) for e in ended] == [(page.place.call_id, "abandoned")]
    with pytest.raises(SelfServiceError) as gone:
        service.page(page.token, "billing")
    assert gone.value.status == 410


async def test_moves_are_limited_per_page_and_checked_on_the_server() -> None:
    clock, facts = Clock(), []
    service = pages(clock, facts, moves_per_minute=3, default_identify="anonymous")
    page, view = await service.start("billing", "10.0.0.2", account=None, factor=None)
    assert not view["identified"] and view["needs_number"]
    # anonymous: no balance, so the script says there is nothing to pay and ends there
    view = await service.move(page, "next", position=0)
    assert view["texts"] == [
        {"kind": "say", "text": "There is nothing to pay on your account at the moment."}
    ]
    with pytest.raises(SelfServiceError) as stale:
        await service.move(page, "next", position=0)
    assert stale.value.status == 409
    await service.move(page, "back", position=1)
    with pytest.raises(SelfServiceError) as limited:
        await service.move(page, "next", position=0)
    assert limited.value.status == 429 and limited.value.retry_after
    clock.now += 61
    view = await service.move(page, "next", position=0)
    assert view["texts"][0]["text"].startswith("There is nothing to pay")


async def test_talking_to_someone_anonymously_needs_a_number_and_a_valid_one() -> None:
    clock, facts = Clock(), []
    service = pages(clock, facts, default_identify="anonymous")
    page, _ = await service.start("billing", "10.0.0.3", account=None, factor=None)
    with pytest.raises(SelfServiceError, match="Give a phone number"):
        await service.move(page, "talk", position=0)
    with pytest.raises(SelfServiceError, match="Give a phone number in digits"):
        await service.move(page, "talk", position=0, number="call me maybe")
    view = await service.move(page, "talk", position=0, number="01 40 00 00 09")
    # no callback service here: the request could not be kept, but the run is handed off all the same
    assert view["status"] == "handed_off"
    assert page.place.number == "0140000009"


async def test_identification_failures_are_limited_per_address_and_per_account() -> None:
    clock, facts = Clock(), []
    service = pages(clock, facts, identify_failures=2, identify_window=300)
    for address in ("10.0.0.4", "10.0.0.5"):
        with pytest.raises(SelfServiceError) as wrong:
            await service.start("billing", address, account="100101", factor="75011")
        assert wrong.value.status == 401
    # the account is now locked whichever address asks, with the right answer too
    with pytest.raises(SelfServiceError) as locked:
        await service.start("billing", "10.0.0.6", account="100101", factor="Saint-Étienne 42")
    assert locked.value.status == 429
    # an unknown account answers exactly like a wrong factor
    with pytest.raises(SelfServiceError) as unknown:
        await service.start("billing", "10.0.0.7", account="999999", factor="x")
    assert (unknown.value.status, str(unknown.value)) == (
        401,
        "We could not find an account with these details.",
    )
    clock.now += 301
    page, _ = await service.start("billing", "10.0.0.6", account="100101", factor="SAINT-ETIENNE 42")
    assert page.identified
    assert Decimal("42.10") == page.run.resolve("customer.balance")
