"""Signing in from a phone: JWT pairs, refresh rotation with a blacklist, signing out (one token or all),
`/api/v1/me/`, the login lockout on the API's sign-in, and the rate limits (per IP address for anonymous
requests and the token endpoints, per user for signed-in clients) answering 429 with `Retry-After`."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token as AuthToken
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def ip():
    """An IP address of this test's own, so its requests count against nobody else's limits."""
    octets = uuid.uuid4().bytes[:3]
    return f"10.{octets[0]}.{octets[1]}.{octets[2]}"


@pytest.fixture
def phone(ip) -> APIClient:
    return APIClient(REMOTE_ADDR=ip)


def sign_in(phone: APIClient, username: str, password: str = PASSWORD):
    return phone.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_a_phone_signs_in_and_reads_who_it_is(phone, alice):
    response = sign_in(phone, "alice")

    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    me = bearer(tokens["access"]).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json() == {
        "id": alice.id,
        "username": "alice",
        "email": "",
        "first_name": "",
        "last_name": "",
        "is_staff": False,
        "date_joined": alice.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_a_wrong_password_gets_401_and_no_tokens(phone, alice):
    response = sign_in(phone, "alice", "guess")

    assert response.status_code == 401
    assert "access" not in response.json()


def test_a_refresh_token_works_once_and_hands_out_a_new_pair(phone, alice):
    first = sign_in(phone, "alice").json()

    renewed = phone.post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]}, format="json")
    again = phone.post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]}, format="json")

    assert renewed.status_code == 200
    pair = renewed.json()
    assert set(pair) == {"access", "refresh"} and pair["refresh"] != first["refresh"]
    assert bearer(pair["access"]).get("/api/v1/me/").json()["username"] == "alice"
    assert again.status_code == 401  # the used refresh token is blacklisted
    assert phone.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code == 200


def test_signing_out_blacklists_the_refresh_token(phone, alice):
    tokens = sign_in(phone, "alice").json()

    revoked = phone.post("/api/v1/auth/token/revoke/", {"refresh": tokens["refresh"]}, format="json")

    assert revoked.status_code == 204
    refused = phone.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refused.status_code == 401
    assert phone.post("/api/v1/auth/token/revoke/", {"refresh": "not-a-token"}, format="json").status_code == 401


def test_signing_out_everywhere_blacklists_every_refresh_token_of_the_user_only(phone, alice, bob):
    on_phone, on_tablet = sign_in(phone, "alice").json(), sign_in(phone, "alice").json()
    bobs = sign_in(phone, "bob").json()

    response = bearer(on_phone["access"]).post("/api/v1/auth/token/revoke-all/")

    assert response.status_code == 204
    for tokens in (on_phone, on_tablet):
        assert (
            phone.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json").status_code == 401
        )
    assert phone.post("/api/v1/auth/token/refresh/", {"refresh": bobs["refresh"]}, format="json").status_code == 200


def test_an_access_token_is_no_refresh_token(phone, alice):
    tokens = sign_in(phone, "alice").json()

    response = phone.post("/api/v1/auth/token/refresh/", {"refresh": tokens["access"]}, format="json")

    assert response.status_code == 401
    assert bearer(tokens["refresh"]).get("/api/v1/me/").status_code == 401


def test_scripts_keep_their_tokens_and_the_browser_its_session(client, alice):
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=alice).key}")
    client.force_login(alice)

    assert script.get("/api/v1/me/").json()["username"] == "alice"
    assert client.get("/api/v1/me/").json()["username"] == "alice"


@override_settings(LOGIN_FAILURES_PER_USERNAME="5/15m", LOGIN_FAILURES_PER_IP="1000/15m")
def test_after_five_wrong_passwords_the_api_refuses_even_the_right_one(phone, django_user_model):
    name = f"dave-{uuid.uuid4().hex[:8]}"
    django_user_model.objects.create_user(name, password=PASSWORD)
    for n in range(5):
        assert sign_in(phone, name, f"guess {n}").status_code == 401

    refused = sign_in(phone, name)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-in attempts for this account" in refused.json()["detail"]
    assert "access" not in refused.json()
    # The login form shares the count: the account is locked there too.
    assert APIClient().post("/accounts/login/", {"username": name, "password": PASSWORD}).status_code == 429


def test_the_101st_anonymous_request_in_a_minute_gets_429_with_retry_after(phone):
    statuses = [phone.get("/api/v1/leaderboard/").status_code for _ in range(100)]

    refused = phone.get("/api/v1/leaderboard/")

    assert statuses == [401] * 100
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["detail"].startswith("Request was throttled.")


def test_another_address_is_not_held_up_and_a_forwarded_for_header_changes_nothing(phone, ip):
    for _ in range(100):
        phone.get("/api/v1/swaps/", HTTP_X_FORWARDED_FOR=f"198.51.100.{uuid.uuid4().int % 250}")

    assert phone.get("/api/v1/swaps/", HTTP_X_FORWARDED_FOR="198.51.100.251").status_code == 429
    other = APIClient(REMOTE_ADDR=f"{ip}1" if ip.count(".") == 3 and len(ip) < 14 else "192.0.2.9")
    assert other.get("/api/v1/swaps/").status_code == 401


def test_the_token_endpoints_allow_100_requests_a_minute_per_address(phone):
    statuses = [
        phone.post("/api/v1/auth/token/refresh/", {"refresh": "x"}, format="json").status_code for _ in range(100)
    ]

    refused = phone.post("/api/v1/auth/token/refresh/", {"refresh": "x"}, format="json")

    assert statuses == [401] * 100
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
