import logging

import pytest
from django.test import override_settings

from tests.conftest import free_port

pytestmark = pytest.mark.django_db


def test_healthz_says_ok_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}


def test_anonymous_callers_learn_only_which_part_is_failing(client, caplog):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(REDIS_URL=dead_redis), caplog.at_level(logging.ERROR):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "error"}
    assert dead_redis not in response.content.decode() and "REDIS_URL" not in response.content.decode()
    # The details go to the log, for whoever runs the service.
    assert any(dead_redis in record.getMessage() for record in caplog.records)


def test_staff_see_why_a_part_is_failing(client, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="pw", is_staff=True)
    client.force_login(staff)
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(REDIS_URL=dead_redis):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert (body["database"], body["redis"]) == ("ok", "error")
    assert "REDIS_URL" in body["errors"]["redis"]
    assert dead_redis in body["errors"]["redis"]


def test_a_logged_in_trader_who_is_not_staff_gets_the_status_only(client, bob):
    client.force_login(bob)
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        response = client.get("/healthz")
    assert response.json() == {"database": "ok", "redis": "error"}
