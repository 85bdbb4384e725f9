"""Every path and query parameter is range-checked before any handler or database sees it, and the
OpenAPI document declares those ranges."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest

from callserver.web.openapi import openapi_document

from .served import served_api

HUGE = str(2**64)  # past SQLite's and PostgreSQL's 64-bit integers
METHODS = {"get", "post", "put", "delete", "patch"}


def _parameters(document: dict) -> list[tuple[str, str, dict]]:
    found = []
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method in METHODS:
                for param in [*shared, *op.get("parameters", [])]:
                    found.append((f"{method.upper()} {path}", param["name"], param))
    return found


def test_every_parameter_in_the_openapi_document_declares_its_range() -> None:
    document = openapi_document(voicemail=True, reports=True)
    for where, name, param in _parameters(document):
        schema = param["schema"]
        if schema["type"] == "integer":
            assert "minimum" in schema and "maximum" in schema, f"{where}: {name} has no range"
            assert schema["maximum"] <= 2**63 - 1, f"{where}: {name} goes past a 64-bit integer"
        else:
            assert schema["type"] == "string", f"{where}: {name}"
            assert "maxLength" in schema and "pattern" in schema, f"{where}: {name} is not bounded"
    for path, item in document["paths"].items():
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), path


async def test_out_of_range_ids_are_a_400_never_a_500(tmp_path: Path) -> None:
    async with served_api(tmp_path) as api, aiohttp.ClientSession(api.url, headers=api.headers) as http:
        answers = {}
        for method, path in [
            ("GET", f"/api/voicemails/{HUGE}/audio"),
            ("POST", f"/api/voicemails/{HUGE}/callback"),
            ("POST", f"/api/voicemails/{HUGE}/close"),
            ("PUT", f"/api/customers/{HUGE}"),
            ("GET", "/api/voicemails/-1/audio"),
            ("GET", "/api/pops/" + "x" * 5000),
            ("POST", "/api/agents/%00%ff/status"),
            ("GET", f"/api/live?last_seq={HUGE}"),
            ("GET", "/api/live?resume=%3Cscript%3E"),
        ]:
            async with http.request(method, path, json={"outcome": "resolved"}) as resp:
                body = await resp.text()
                error = json.loads(body).get("error", "") if resp.content_type == "application/json" else body
                answers[f"{method} {path[:60]}"] = (resp.status, error[:80])
    print("\n".join(f"{k}: {v}" for k, v in answers.items()))
    assert {status for status, _ in answers.values()} == {400}, answers
    assert all("must be" in error for _, error in answers.values())


@pytest.mark.parametrize("value", ["1", str(2**63 - 1)])
async def test_ids_in_range_reach_the_handler(tmp_path: Path, value: str) -> None:
    async with (
        served_api(tmp_path) as api,
        aiohttp.ClientSession(api.url, headers=api.headers) as http,
        http.get(f"/api/voicemails/{value}/audio") as resp,
    ):
        assert resp.status == 404  # a real lookup that found nothing
