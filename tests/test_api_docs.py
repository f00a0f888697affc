"""The API's documentation pages: Swagger UI and Redoc, signed in, everything they load served by us
(drf-spectacular-sidecar's static files), nothing from another site; and the schema documents errors."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_load_only_our_own_files(client, alice, url):
    client.force_login(alice)

    page = client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/v1/schema/" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(asset.startswith("/static/drf_spectacular_sidecar/") for asset in assets), assets
    assert "https://" not in html and "http://" not in html
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset


def test_the_documentation_pages_need_a_signed_in_user(client):
    assert client.get("/api/docs/").status_code in (401, 403)
    assert client.get("/api/redoc/").status_code in (401, 403)


def test_every_operation_documents_its_refusals(client, alice):
    client.force_login(alice)
    schema = json.loads(client.get("/api/v1/schema/", {"format": "json"}).content)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "429" in codes, (method, path)
            assert "Retry-After" in operation["responses"]["429"].get("headers", {}), (method, path)
            if operation.get("parameters") or "requestBody" in operation:
                assert "400" in codes, (method, path)
            if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
                assert "404" in codes, (method, path)
            if path.startswith("/api/v1/admin/"):
                assert {"401", "403"} <= codes, (method, path)
    offset = next(p for p in schema["paths"]["/api/v1/follows/"]["get"]["parameters"] if p["name"] == "offset")
    assert offset["schema"]["minimum"] == 0
