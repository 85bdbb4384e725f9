"""One fact of every type in the `Fact` union goes through the store's mapping in one batch, on
SQLite and PostgreSQL: each is logged whole, and the call row takes what it should."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from callserver import jsontext
from callserver.facts.model import CallLinkedToCustomer
from callserver.store import CustomerFields, Store
from callserver.store.facts import payload_of
from callserver.store.models import CallEvent
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
    # each logged whole, as `payload_of` makes it (what replay and the timeline read)
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(CallEvent.kind, CallEvent.payload))
        stored = {kind: payload for kind, payload in rows}
    assert stored == {type(f).__name__: jsontext.loads(jsontext.dumps(payload_of(f))) for f in facts}
    call = await store.call(CALL_ID)
    assert call is not None
    assert (call.wrapup_outcome, call.wrapup_note, call.customer_id) == ("sample", "sample", customer.id)
    assert call.arrived_at.timestamp() == T0
