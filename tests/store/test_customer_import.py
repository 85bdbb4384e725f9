"""The customer base from files: a seed that only adds, explicit updates that say how many, numbers
in E.164, search a page at a time, streamed export, and older rows migrated to E.164."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from callserver.store import CustomerFields, Store, upgrade
from callserver.store.customer_csv import csv_lines, read_csv

SEED = """name,phones,account,language,vip,notes
Alice Martin,01 40 00 00 01;06 12 34 56 78,A-100,fr,yes,prefers mornings
Bob Stone,+44 20 7946 0958,B-200,en-GB,no,
"""


def _seed(tmp_path: Path, body: str = SEED) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(body, encoding="utf-8")
    return path


async def test_the_seed_only_adds_customers_and_keeps_what_agents_edited(
    store: Store, tmp_path: Path
) -> None:
    first = await store.load_customers(_seed(tmp_path), update=False, region="FR")
    assert (first.created, first.updated, first.skipped) == (2, 0, 0)
    alice = await store.find_customer_by_account("A-100")
    assert alice is not None
    edited = CustomerFields("Alice M. Durand", alice.phones, "A-100", None, "fr", True, "moved to Lyon")
    await store.update_customer(alice.id, edited)
    again = await store.load_customers(
        _seed(tmp_path, SEED + "Carol New,+33140000003,C-300,fr,no,\n"), update=False, region="FR"
    )
    assert (again.created, again.updated, again.skipped) == (1, 0, 2)
    kept = await store.customer(alice.id)
    assert kept is not None and (kept.name, kept.notes) == ("Alice M. Durand", "moved to Lyon")
    forced = await store.load_customers(_seed(tmp_path), update=True, region="FR")
    assert (forced.created, forced.updated, forced.skipped) == (0, 2, 0)
    overwritten = await store.customer(alice.id)
    assert overwritten is not None and overwritten.name == "Alice Martin"


async def test_numbers_are_stored_in_e164_whatever_their_form(store: Store, tmp_path: Path) -> None:
    await store.load_customers(_seed(tmp_path), region="FR")
    alice = await store.find_customer_by_account("A-100")
    bob = await store.find_customer_by_account("B-200")
    assert alice is not None and bob is not None
    assert alice.phones == ("+33140000001", "+33612345678")
    assert bob.phones == ("+442079460958",)
    assert [c.id for c in await store.find_customers_by_number("0612345678")] == [alice.id]


def test_a_file_with_bad_rows_names_each_line_and_column_and_yields_no_rows() -> None:
    body = "name,account,phones,vip\nAnn,A1,+33140000001,no\n,A2,0140,maybe\nBob,A3,call me,no\n"
    read = read_csv(io.StringIO(body), None)
    assert [p.text("f.csv") for p in read.problems] == [
        "f.csv:3:1: name: is empty",
        "f.csv:3:3: phones: '0140' is in national form: write it as +<country code>... "
        "or set customers.default_region",
        "f.csv:3:4: vip: must be yes/no, got 'maybe'",
        "f.csv:4:3: phones: 'call me' is not a phone number",
    ]
    assert [r.name for r in read.rows] == ["Ann"]


async def test_search_pages_through_names_accounts_and_phone_digits(store: Store, tmp_path: Path) -> None:
    rows = "".join(f"Martin {i:02d},+331400001{i:02d},M-{i:02d},fr,no,\n" for i in range(25))
    await store.load_customers(
        _seed(tmp_path, "name,phones,account,language,vip,notes\n" + rows), region="FR"
    )
    page, total = await store.search_customers("martin", limit=10, offset=20)
    assert total == 25 and [c.name for c in page] == [f"Martin {i:02d}" for i in range(20, 25)]
    by_phone, _ = await store.search_customers("01 40 00 01 07", limit=10)
    assert [c.account for c in by_phone] == ["M-07"]
    by_account, _ = await store.search_customers("M-13", limit=10)
    assert [c.name for c in by_account] == ["Martin 13"]
    _, everyone = await store.search_customers("", limit=1)
    assert everyone == 25


async def test_export_streams_every_customer_in_the_import_format(store: Store, tmp_path: Path) -> None:
    await store.load_customers(_seed(tmp_path), region="FR")
    batches = [batch async for batch in store.export_customers(batch=1)]
    assert [len(b) for b in batches] == [1, 1]
    text_out = "".join(csv_lines([c for b in batches for c in b]))
    back = read_csv(io.StringIO(text_out), None)
    assert back.problems == []
    assert [(r.name, [n for n, _ in r.phones]) for r in back.rows] == [
        ("Alice Martin", ["+33140000001", "+33612345678"]),
        ("Bob Stone", ["+442079460958"]),
    ]


async def test_migration_rewrites_older_numbers_in_e164_and_keeps_the_unreadable(db_url: str) -> None:
    await upgrade(db_url, "0003")
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO customers (id, name, vip, notes, created_at, updated_at) VALUES "
                    "(1, 'Ann', false, '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO customer_phones (id, customer_id, number, tail, raw) VALUES "
                    "(1, 1, '0612345678', '12345678', '06 12 34 56 78'), "
                    "(2, 1, '+33612345678', '12345678', '+33 6 12 34 56 78'), "
                    "(3, 1, '0033140000001', '40000001', '0033 1 40 00 00 01')"
                )
            )
    finally:
        await engine.dispose()
    await upgrade(db_url, region="FR")
    store = await Store.open(db_url)
    try:
        ann = await store.customer(1)
    finally:
        await store.close()
    assert ann is not None and sorted(ann.phones) == ["+33140000001", "+33612345678"]


async def test_migration_without_a_region_keeps_national_numbers_as_they_were(db_url: str) -> None:
    await upgrade(db_url, "0003")
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO customers (id, name, vip, notes, created_at, updated_at) VALUES "
                    "(1, 'Ann', false, '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO customer_phones (id, customer_id, number, tail, raw) VALUES "
                    "(1, 1, '0612345678', '12345678', '06'), (2, 1, '0044 20 7946 0958', '79460958', 'x')"
                )
            )
    finally:
        await engine.dispose()
    await upgrade(db_url)
    store = await Store.open(db_url)
    try:
        ann = await store.customer(1)
    finally:
        await store.close()
    assert ann is not None and sorted(ann.phones) == ["+442079460958", "0612345678"]
