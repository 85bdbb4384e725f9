"""One fact of every type in the `Fact` union goes through the store's mapping in one batch, on
SQLite and PostgreSQL: each is logged whole, and the call row takes what it should."""

from __future__ import annotations

import dataclasses

from callserver.facts.model import CallLinkedToCustomer
from callserver.store import CustomerFields, Store
from tests.facts.samples import CALL_ID, T0, fact_types, one_of_each


async def test_every_fact_type_is_logged_and_applied(store: Store) -> None:
    customer = await store.create_customer(
        CustomerFields("Ann", ("+33140000001",), None, None, None, False, "")
    )
    facts = [
        dataclasses.replace(f, customer_id=customer.id) if isinstance(f, CallLinkedToCustomer) else f
        for f in one_of_each()
    ]
    await store.apply(facts)
    assert await store.event_count() == len(fact_types())
    logged = await store.call_events(CALL_ID)
    assert [e.kind for e in logged] == [type(f).__name__ for f in facts if hasattr(f, "call_id")]
    call = await store.call(CALL_ID)
    assert call is not None
    assert (call.wrapup_outcome, call.wrapup_note, call.customer_id) == ("sample", "sample", customer.id)
    assert call.arrived_at.timestamp() == T0
