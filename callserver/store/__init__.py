"""Persistence: schema and migrations, the Store (config mirror, customers, call history) and the
FactWriter that moves ACD facts to the database off the call-handling path."""

from callserver.store.migrate import upgrade
from callserver.store.records import (
    CallRecord,
    CustomerRecord,
    EventRecord,
    LoadReport,
    OfferRecord,
)
from callserver.store.store import Store
from callserver.store.writer import FactWriter

__all__ = [
    "CallRecord",
    "CustomerRecord",
    "EventRecord",
    "FactWriter",
    "LoadReport",
    "OfferRecord",
    "Store",
    "upgrade",
]
