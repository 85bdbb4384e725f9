"""The queues table mirrors what the engine was given: written from the same translation."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from callserver.config import parse_settings
from callserver.store import Store


async def test_queue_rows_show_the_engines_timeout_destination(db_url: str) -> None:
    data = {
        "queues": [
            {"name": "sales", "dnis": ["0800100200"], "on_timeout": {"queue": "general"}, "wrapup": 10},
            {"name": "general", "max_wait": 60},  # the default: a goodbye message at max wait
            {"name": "billing", "on_timeout": {"voicemail": "billing"}},
        ]
    }
    store = await Store.open(db_url)
    try:
        await store.sync_config(parse_settings(data, "test"))
    finally:
        await store.close()
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT name, max_wait, ring_timeout, wrapup, on_timeout_queue, on_timeout_message"
                        " FROM queues ORDER BY name"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    default_wrapup = parse_settings({}, "test").acd.wrapup  # a queue that gives none has the server's
    assert [tuple(r) for r in rows] == [
        ("billing", 300.0, 15.0, default_wrapup, None, None),
        ("general", 60.0, 15.0, default_wrapup, None, "vm-goodbye"),
        ("sales", 300.0, 15.0, 10.0, "general", None),
    ]
