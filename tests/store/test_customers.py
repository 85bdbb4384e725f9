"""Customer seed loading, customers saved from the screen-pop, lookups by number in any common
format, and config mirroring."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from callserver.config import parse_settings
from callserver.store import CustomerConflict, CustomerFields, Store
from callserver.store.customers import normalise_number, same_number
from callserver.store.records import CUSTOMER_MATCHES
from tests.store.facts import T0, answered_call, queued

SEED = """name,phones,account,language,vip,notes
Alice Martin,+33 1 40 00 00 01;06 12 34 56 78,A-100,fr,yes,prefers mornings
Bob Stone,+44 (20) 7946-0958|+44 7700 900123,B-200,en-GB,no,
,+33140000099,C-300,fr,no,no name
Carol Bad,not-a-number,C-400,fr,no,
Dan Vip,0033 4 72 00 00 00,,fr,maybe,
Eve Noaccount,+1 415 555 0100,,en,0,
"""


# the seed writes some numbers in French national form: they are read as dialled in France
REGION = "FR"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding="utf-8")
    return path


async def test_bad_rows_are_reported_with_file_and_line_and_good_rows_load(
    store: Store, tmp_path: Path
) -> None:
    path = write(tmp_path, SEED)
    report = await store.load_customers(path, region=REGION)
    assert (report.created, report.updated) == (3, 0)
    assert report.errors == (
        f"{path}:4:1: name: is empty",
        f"{path}:5:2: phones: 'not-a-number' is not a phone number",
        f"{path}:6:5: vip: must be yes/no, got 'maybe'",
    )
    alice = await store.find_customer_by_account("A-100")
    assert alice is not None
    assert (alice.name, alice.phones, alice.vip, alice.language) == (
        "Alice Martin",
        ("+33140000001", "+33612345678"),
        True,
        "fr",
    )
    assert alice.created_at.tzinfo is not None


async def test_reloading_is_idempotent_by_account_or_phone(store: Store, tmp_path: Path) -> None:
    await store.load_customers(write(tmp_path, SEED), region=REGION)
    changed = SEED.replace("prefers mornings", "prefers evenings").replace("Eve Noaccount", "Eve N.")
    report = await store.load_customers(write(tmp_path, changed), region=REGION)
    assert (report.created, report.updated) == (0, 3)
    alice = await store.find_customer_by_account("A-100")
    assert alice is not None and alice.notes == "prefers evenings"
    eve = await store.find_customers_by_number("+14155550100")
    assert [c.name for c in eve] == ["Eve N."]


async def test_missing_columns_or_file_are_reported(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "name,account\nX,1\n")
    assert (await store.load_customers(path)).errors == (f"{path}:1: missing column(s) phones",)
    missing = tmp_path / "nope.csv"
    report = await store.load_customers(missing)
    assert report.errors[0].startswith(f"{missing}: cannot read file")


@pytest.mark.parametrize("dialled", ["+33140000001", "0033140000001", "01 40 00 00 01", "+33 1-40.00.00.01"])
async def test_lookup_by_number_accepts_formatting_variants(
    store: Store, tmp_path: Path, dialled: str
) -> None:
    await store.load_customers(write(tmp_path, SEED), region=REGION)
    assert [c.account for c in await store.find_customers_by_number(dialled)] == ["A-100"]


async def test_lookup_of_unknown_or_garbage_numbers_finds_nobody(store: Store, tmp_path: Path) -> None:
    await store.load_customers(write(tmp_path, SEED), region=REGION)
    assert await store.find_customers_by_number("+33140000002") == []
    assert await store.find_customers_by_number("anonymous") == []
    assert await store.find_customer_by_account("Z-999") is None


def test_number_normalisation_and_matching() -> None:
    assert normalise_number(" +44 (20) 7946-0958 ") == "+442079460958"
    assert normalise_number("0044 20 7946 0958") == "+442079460958"
    assert normalise_number("12") is None and normalise_number("12ab45") is None
    assert same_number("+33140000001", "0140000001")
    assert same_number("33140000001", "+33140000001")
    assert not same_number("+33140000001", "0240000001")


async def test_calls_are_linked_to_the_customer_and_feed_contact_history(
    store: Store, tmp_path: Path
) -> None:
    await store.load_customers(write(tmp_path, SEED), region=REGION)
    alice = await store.find_customer_by_account("A-100")
    assert alice is not None
    await store.apply(answered_call("c1", T0))
    await store.apply([queued("c2", T0 + 3600, caller="0140000001"), queued("c3", T0 + 7200, caller="999")])
    assert (await store.call("c2")).customer_id == alice.id  # type: ignore[union-attr]
    assert (await store.call("c3")).customer_id is None  # type: ignore[union-attr]
    history = await store.contact_history(alice.id, 10, before="c2")
    assert [(c.id, c.outcome) for c in history] == [("c1", "answered")]
    assert [c.id for c in await store.contact_history(alice.id, 1)] == ["c2"]


async def test_sync_config_upserts_agents_and_queues(store: Store) -> None:
    data = {
        "skills": ["fr"],
        "agents": [
            {"id": "a1", "name": "Ann", "login": "ann", "interface": "PJSIP/1001", "password": "pw"},
            {"id": "a2", "name": "Ben", "login": "ben", "number": "+33600000000", "skills": {"fr": 3}},
        ],
        "queues": [{"name": "sales", "dnis": ["0800100200"], "skills": ["fr"]}],
    }
    await store.sync_config(parse_settings(data, "test"))
    first = await store.agent_password_hash("a1")
    assert first is not None and first.startswith("$argon2")
    data["agents"] = data["agents"][:1]
    await store.sync_config(parse_settings(data, "test"))
    assert await store.agent_password_hash("a1") == first  # unchanged password keeps its hash


def _fields(name: str, *phones: str, account: str | None = None) -> CustomerFields:
    return CustomerFields(name, phones, account, None, "fr", False, "")


async def test_customers_created_and_edited_by_people_are_found_by_number(store: Store) -> None:
    ann = await store.create_customer(_fields("Ann", "+33140000001", account="A-1"))
    assert (ann.name, ann.phones, ann.account) == ("Ann", ("+33140000001",), "A-1")
    assert [c.id for c in await store.find_customers_by_number("01 40 00 00 01")] == [ann.id]
    edited = await store.update_customer(ann.id, _fields("Ann B.", "+33140000002", account="A-1"))
    assert edited is not None and (edited.id, edited.name, edited.phones) == (
        ann.id,
        "Ann B.",
        ("+33140000002",),
    )
    assert await store.find_customers_by_number("+33140000001") == []
    assert await store.update_customer(ann.id + 100, _fields("Nobody", "+33140000003")) is None


async def test_an_account_belongs_to_one_customer_only(store: Store) -> None:
    ann = await store.create_customer(_fields("Ann", "+33140000001", account="A-1"))
    bob = await store.create_customer(_fields("Bob", "+33140000002"))
    with pytest.raises(CustomerConflict):
        await store.create_customer(_fields("Other Ann", "+33140000009", account="A-1"))
    with pytest.raises(CustomerConflict):
        await store.update_customer(bob.id, _fields("Bob", "+33140000002", account="A-1"))
    assert (await store.customer(bob.id)).account is None  # type: ignore[union-attr]
    assert (await store.find_customer_by_account("A-1")).id == ann.id  # type: ignore[union-attr]


async def test_the_customers_found_on_arrival_link_the_call_without_a_second_search(
    store: Store, tmp_path: Path
) -> None:
    await store.load_customers(_seed_two(tmp_path))
    alice = await store.find_customer_by_account("A-100")
    bob = await store.find_customer_by_account("B-200")
    assert alice is not None and bob is not None
    # the caller's number is Alice's, but the search made on arrival found Bob: that result counts
    found = {CUSTOMER_MATCHES: [bob.id]}
    none = {CUSTOMER_MATCHES: []}
    both = {CUSTOMER_MATCHES: [alice.id, bob.id]}
    await store.apply(
        [
            dataclasses.replace(queued("c1", caller="+33140000001"), data=found),
            dataclasses.replace(queued("c2", caller="+33140000001"), data=none),
            dataclasses.replace(queued("c3", caller="+33140000001"), data=both),
            queued("c4", caller="+33140000001"),  # not searched on arrival: the store searches
        ]
    )
    linked = {c.id: c.customer_id for c in await store.calls()}
    assert linked == {"c1": bob.id, "c2": None, "c3": None, "c4": alice.id}


def _seed_two(tmp_path: Path) -> Path:
    path = tmp_path / "two.csv"
    path.write_text(
        "name,phones,account\nAlice Martin,+33 1 40 00 00 01,A-100\nBob Stone,+44 20 7946 0958,B-200\n",
        encoding="utf-8",
    )
    return path
