"""Nobody guesses a password: failed sign-ins are limited per IP address and per username, on the site's
login form and the admin's, with a clear message and Retry-After; the right password does not get
through a lock."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
FORMS = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def address():
    """An IP address of this test's own, so its failures count against nobody else's."""
    octets = uuid.uuid4().bytes[:3]
    return f"10.{octets[0]}.{octets[1]}.{octets[2]}"


@pytest.fixture
def staff_carol(django_user_model):
    """Carol on the staff, so the admin form would let her in with the right password; a fresh username
    each test, as failed sign-ins are counted per username in Redis, which outlives the test."""
    name = f"carol-{uuid.uuid4().hex[:8]}"
    return django_user_model.objects.create_user(name, password=PASSWORD, is_staff=True)


def attempt(client, url: str, username: str, password: str, ip: str):
    return client.post(url, {"username": username, "password": password, "next": "/"}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("url", FORMS)
@override_settings(LOGIN_FAILURES_PER_USERNAME="5/15m", LOGIN_FAILURES_PER_IP="1000/15m")
def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(client, staff_carol, address, url):
    for n in range(5):
        wrong = attempt(client, url, staff_carol.username, f"guess {n}", address)
        assert wrong.status_code == 200  # the form again, with the usual error

    refused = attempt(client, url, staff_carol.username, PASSWORD, address)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    page = refused.content.decode()
    assert "Too many failed sign-in attempts for this account" in page and "try again in" in page
    assert "_auth_user_id" not in client.session  # not logged in
    # The lock is on the account, wherever the guesses come from.
    elsewhere = attempt(client, url, staff_carol.username, PASSWORD, "203.0.113.77")
    assert elsewhere.status_code == 429


@pytest.mark.parametrize("url", FORMS)
@override_settings(LOGIN_FAILURES_PER_USERNAME="1000/15m", LOGIN_FAILURES_PER_IP="8/15m")
def test_one_address_guessing_many_accounts_is_locked_out(client, staff_carol, address, url):
    for n in range(8):
        attempt(client, url, f"nobody-{n}-{uuid.uuid4().hex[:6]}", "guess", address)

    refused = attempt(client, url, staff_carol.username, PASSWORD, address)

    assert refused.status_code == 429
    assert "from this address" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    # Someone else, from another address, signs in as usual.
    assert attempt(client, url, staff_carol.username, PASSWORD, "203.0.113.78").status_code == 302


@pytest.mark.parametrize("url", FORMS)
@override_settings(LOGIN_FAILURES_PER_USERNAME="5/15m", LOGIN_FAILURES_PER_IP="1000/15m")
def test_successful_sign_ins_and_a_few_typos_lock_nobody_out(client, staff_carol, address, url):
    for _ in range(3):
        assert attempt(client, url, staff_carol.username, "typo", address).status_code == 200
        assert attempt(client, url, staff_carol.username, PASSWORD, address).status_code == 302
        client.logout()


def test_fifty_guesses_on_the_real_limits_never_let_the_right_password_in(client, staff_carol, address):
    statuses = [
        attempt(client, "/accounts/login/", staff_carol.username, f"guess {n}", address).status_code for n in range(50)
    ]

    assert statuses.count(429) >= 45
    assert attempt(client, "/accounts/login/", staff_carol.username, PASSWORD, address).status_code == 429
