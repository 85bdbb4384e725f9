"""Even with debug logging (`callserver run -v`), password hashes and customer records stay out of
the log: SQL parameters and result rows are not echoed."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from tests.web.served import served_api

SECRET_NAME = "Zebulon Quartermaine"


async def test_debug_log_holds_no_password_hash_and_no_customer_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with served_api(tmp_path) as api, aiohttp.ClientSession(api.url, headers=api.headers) as http:
        created = await http.post(
            "/api/customers",
            json={"name": SECRET_NAME, "phones": ["+33140009999"], "account": "ZQ-1", "notes": "owes 42"},
        )
        assert created.status == 201
        customer = await created.json()
        edited = await http.put(
            f"/api/customers/{customer['id']}",
            json={"name": SECRET_NAME, "phones": ["+33140009999"], "notes": "paid"},
        )
        assert edited.status == 200
        hashes = await api.server.store.agent_password_hash("agent1")
    logged = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # debug logging really was on
    print(f"{len(caplog.records)} records at DEBUG; argon2 in them: {logged.count('$argon2')}")
    assert "$argon2" not in logged
    assert SECRET_NAME not in logged
    assert "owes 42" not in logged
    assert hashes is None or hashes not in logged
