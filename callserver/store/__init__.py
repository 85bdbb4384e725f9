"""Persistence: schema and migrations, the Store (config mirror, customers, call history, the
tables of other capabilities such as voicemail) and the FactWriter, the one path by which facts
change call records, off the call-handling path."""

from callserver.store.customers import CustomerConflict
from callserver.store.migrate import upgrade
from callserver.store.records import (
    CallRecord,
    CustomerFields,
    CustomerRecord,
    EventRecord,
    LoadReport,
    OfferRecord,
    ScriptAnswerRecord,
    ScriptRunRecord,
)
from callserver.store.store import Store
from callserver.store.writer import FactWriter

__all__ = [
    "CallRecord",
    "CustomerConflict",
    "CustomerFields",
    "CustomerRecord",
    "EventRecord",
    "FactWriter",
    "LoadReport",
    "OfferRecord",
    "ScriptAnswerRecord",
    "ScriptRunRecord",
    "Store",
    "upgrade",
]
