"""Schemathesis fuzzes every operation of the live schema, served by Daphne, as a signed-in staff user:
no server error, and no answer the schema does not describe (status, content type, headers, body),
and every request the schema forbids is refused. Bounded examples per operation keep it to a minute
or so; it runs against tests/fuzz_settings.py (rate limits and lockout out of its reach, tested elsewhere)."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import checks

from tests.builders import usdc_swap
from tests.conftest import LiveServer, live_server_env

EXAMPLE_WALLET = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"  # the address the schema's examples use
EXAMPLES_PER_OPERATION = 10
CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
def fuzzed_server(django_db_setup, django_db_blocker):
    env = {
        **live_server_env(django_db_blocker, queue=f"fuzz-{uuid.uuid4().hex[:12]}"),  # no worker takes its tasks
        "DJANGO_SETTINGS_MODULE": "tests.fuzz_settings",
    }
    server = LiveServer(env).start()
    yield server
    server.stop()


@pytest.fixture
def staff_headers(transactional_db, django_user_model) -> dict[str, str]:
    from whales.ingestion.ingest import ingest
    from whales.models import ArrivedVia, TrackedWallet

    staff = django_user_model.objects.create_user("fuzzer", password="pw-fuzzer-1", is_staff=True)
    TrackedWallet.objects.create(address=EXAMPLE_WALLET, label="Example")
    ingest(
        [usdc_swap(EXAMPLE_WALLET, "So11111111111111111111111111111111111111112", "buy", "3", "600", 1_764_000_000)],
        ArrivedVia.WEBHOOK,
    )
    return {"Authorization": f"Bearer {RefreshToken.for_user(staff).access_token}"}


def can_be_wrong(definition: dict) -> bool:
    """Whether a request can break this operation's schema: a body, a query parameter, or a path
    parameter that is not just any text (hypothesis would search in vain for a wrong one)."""
    parameters = definition.get("parameters", [])
    return "requestBody" in definition or any(
        parameter["in"] == "query" or parameter.get("schema", {}).get("type") != "string" for parameter in parameters
    )


def test_every_operation_answers_as_its_schema_says(fuzzed_server, staff_headers):
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/api/v1/schema/?format=json", headers=staff_headers)
    failures: dict[str, str] = {}
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                database=None,
                phases=[Phase.explicit, Phase.generate],
            )
            def fuzz(case) -> None:
                case.call_and_validate(base_url=fuzzed_server.url, headers=staff_headers, checks=CHECKS, timeout=10)

            if mode == GenerationMode.NEGATIVE and not can_be_wrong(operation.definition.raw):
                continue
            tried += 1
            try:
                fuzz()
            except Unsatisfiable:
                pass  # the schema allows everything this operation takes: there is no negative case to make
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - every operation's failures are reported
                failures[f"{operation.method.upper()} {operation.path} ({mode.value})"] = str(failure)[:3000]

    assert tried >= 50
    assert not failures, "\n\n".join(f"{name}:\n{failure}" for name, failure in failures.items())


@pytest.mark.parametrize("body", [b"--aura--\r\n", b"--aura\r\n", b"not multipart at all"])
def test_a_malformed_multipart_post_gets_the_apis_json_400(fuzzed_server, staff_headers, body):
    import httpx

    response = httpx.post(
        f"{fuzzed_server.url}/api/v1/follows/",
        content=body,
        headers={**staff_headers, "Content-Type": "multipart/form-data; boundary=aura"},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert "address" in response.json() or "detail" in response.json()
