"""Fuzz the REST API with schemathesis from the project's own OpenAPI document, against a running
server: data that fits the document and data that does not, on every operation. Any 500 fails, and
any other 5xx must be one the document declares."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from callserver.web.openapi import openapi_document

from .budget import fuzz_settings, ran
from .server import FuzzServer

# huge generated frames and blocks: a failure must be reported, not turned into a warning about its size
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Generating overly large repr")]

SCHEMA = schemathesis.openapi.from_dict(openapi_document(voicemail=True))
# logging out would end the fuzzing session itself
OPERATIONS = [op for result in SCHEMA.get_all_operations() if (op := result.ok()).path != "/api/logout"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
def test_no_operation_answers_a_server_error(server: FuzzServer, operation, mode: GenerationMode) -> None:
    declared = {int(code) for code in operation.definition.raw.get("responses", {}) if code.isdigit()}
    http = requests.Session()
    try:

        @fuzz_settings(short=2, long=220)
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: schemathesis.Case) -> None:
            ran("REST API, schemathesis (over HTTP)")
            response = case.call(base_url=server.web_url, session=http, headers=server.auth, timeout=15)
            where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
            assert response.status_code != 500, where
            if response.status_code > 500:
                assert response.status_code in declared, where
                return
            case.validate_response(response, checks=[not_a_server_error])

        check()
    finally:
        http.close()
    assert server.alive()
