"""The customer base over REST: search and list a page at a time (agents and supervisors), one
customer with their calls and agent names, a streamed CSV export and an all-or-nothing import."""

from __future__ import annotations

import csv
import io

from tests.web.conftest import CSRF, Env

GOOD = "name,phones,account\nAnn Lee,01 40 00 00 21,A-1\nBen Ross,+44 20 7946 0000,A-2\n"


async def _import(env: Env, body: str, update: bool = False) -> tuple[int, dict[str, object]]:
    boss = await env.client("boss")
    resp = await boss.post(
        f"/api/customers/import?update={'true' if update else 'false'}",
        data=body.encode(),
        headers={**CSRF, "Content-Type": "text/csv"},
    )
    return resp.status, await resp.json()


async def test_supervisors_import_a_csv_and_every_number_lands_in_e164(env: Env) -> None:
    status, body = await _import(env, GOOD)
    assert (status, body) == (200, {"rows": 2, "created": 2, "updated": 0, "skipped": 0})
    agent = await env.client("agent1")
    found = await (await agent.get("/api/customers", params={"q": "ann"})).json()
    assert [(c["name"], c["phones"]) for c in found["customers"]] == [("Ann Lee", ["+33140000021"])]
    again, counts = await _import(env, GOOD.replace("Ann Lee", "Ann Lee-Smith"))
    assert (again, counts["created"], counts["skipped"]) == (200, 0, 2)
    forced, counts = await _import(env, GOOD.replace("Ann Lee", "Ann Lee-Smith"), update=True)
    assert (forced, counts["updated"]) == (200, 2)


async def test_a_file_with_one_bad_row_imports_nothing_and_names_line_and_column(env: Env) -> None:
    status, body = await _import(env, GOOD + "Cid,not a phone,A-3\n,+33140000099,A-4\n")
    assert status == 400
    assert body["problems"] == [
        "line 4, column 2 (phones): 'not a phone' is not a phone number",
        "line 5, column 1 (name): is empty",
    ]
    boss = await env.client("boss")
    listing = await (await boss.get("/api/customers")).json()
    assert listing["total"] == 0


async def test_listing_is_paginated_and_bounded(env: Env) -> None:
    rows = "".join(f"Zed {i:03d},+33140001{i:03d},Z-{i}\n" for i in range(130))
    assert (await _import(env, "name,phones,account\n" + rows))[0] == 200
    agent = await env.client("agent1")
    page = await (
        await agent.get("/api/customers", params={"q": "zed", "limit": "50", "offset": "100"})
    ).json()
    assert (page["total"], len(page["customers"]), page["customers"][0]["name"]) == (130, 30, "Zed 100")
    default = await (await agent.get("/api/customers")).json()
    assert len(default["customers"]) == 20
    too_many = await agent.get("/api/customers", params={"limit": "1000"})
    assert too_many.status == 400


async def test_export_streams_csv_to_supervisors_only(env: Env) -> None:
    await _import(env, GOOD)
    agent = await env.client("agent1")
    assert (await agent.get("/api/customers/export")).status == 403
    boss = await env.client("boss")
    resp = await boss.get("/api/customers/export")
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert resp.headers.get("Transfer-Encoding") == "chunked"  # streamed, not built in memory
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert [(r["name"], r["phones"], r["account"]) for r in rows] == [
        ("Ann Lee", "+33140000021", "A-1"),
        ("Ben Ross", "+442079460000", "A-2"),
    ]
    assert (await agent.post("/api/customers/import", data=b"name,phones\n", headers=CSRF)).status == 403


async def test_one_customer_comes_with_calls_naming_the_agent(env: Env) -> None:
    from callserver.facts.model import CallAnswered, CallEnded, CallQueued, Outcome

    await _import(env, GOOD)
    boss = await env.client("boss")
    ann = (await (await boss.get("/api/customers", params={"q": "A-1"})).json())["customers"][0]
    await env.deps.store.apply(
        [
            CallQueued("old1", 1_700_000_000.0, "support", "PJSIP/t-1", "+33140000021", "", "500"),
            CallAnswered("old1", 1_700_000_005.0, "support", "agent2", 5.0),
            CallEnded("old1", 1_700_000_050.0, "support", Outcome.ANSWERED, "agent2", 5.0),
        ]
    )
    one = await (await boss.get(f"/api/customers/{ann['id']}")).json()
    assert [(h["call_id"], h["agent_id"], h["agent_name"]) for h in one["history"]] == [
        ("old1", "agent2", "Agent 2")
    ]
    assert (await boss.get("/api/customers/999999")).status == 404
