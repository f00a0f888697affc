import pytest
from django.test import override_settings

from tests.conftest import free_port

pytestmark = pytest.mark.django_db


def test_healthz_says_ok_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}


def test_healthz_says_503_and_names_redis_when_redis_is_down(client):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(REDIS_URL=dead_redis):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] == "error"
    assert "REDIS_URL" in body["errors"]["redis"]
    assert dead_redis in body["errors"]["redis"]
