"""Error pages in the site's layout (never Django's debug pages), wallets and tokens AURA does not know,
and the icon."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.builders import address
from whales.models import BackfillState, TrackedWallet, WalletStats

pytestmark = pytest.mark.django_db

UNTRACKED = address("nobody tracks me")


def test_an_invalid_wallet_address_gets_a_page_saying_why(admin_client):
    response = admin_client.get("/wallets/not-an-address/")

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-page"' in html and "That is not a wallet address" in html
    assert "not a valid" in html or "base58" in html
    assert '<nav class="nav"' in html  # the site's layout, not a bare error


@override_settings(DEBUG=True)
def test_an_untracked_wallet_says_so_even_in_debug_and_offers_staff_to_track_it(admin_client, client, alice):
    staff_page = admin_client.get(f"/wallets/{UNTRACKED}/")
    client.force_login(alice)
    trader_page = client.get(f"/wallets/{UNTRACKED}/")

    assert staff_page.status_code == trader_page.status_code == 404
    assert "AURA does not track this wallet" in staff_page.content.decode()
    assert "Track this wallet" in staff_page.content.decode()
    assert "Track this wallet" not in trader_page.content.decode()
    assert "Ask an admin" in trader_page.content.decode()
    assert "Page not found at" not in staff_page.content.decode()  # not Django's debug page


def test_staff_track_an_untracked_wallet_from_its_page_and_its_history_starts_loading(
    admin_client, client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    assert client.post(f"/wallets/{UNTRACKED}/track/", {"label": "Spotted"}).status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/wallets/{UNTRACKED}/track/", {"label": "Spotted"})

    assert response.status_code == 302 and response["Location"] == f"/wallets/{UNTRACKED}/"
    wallet = TrackedWallet.objects.get(address=UNTRACKED)
    assert wallet.label == "Spotted" and wallet.backfill_state == BackfillState.RUNNING
    assert WalletStats.objects.filter(wallet=wallet).count() == 4  # on the leaderboard at once
    page = admin_client.get(f"/wallets/{UNTRACKED}/").content.decode()
    assert "Tracking it now" in page and "history" in page
    assert admin_client.post("/wallets/bad/track/").status_code == 400


def test_an_unknown_token_gets_a_page_in_the_layout(admin_client):
    unknown = admin_client.get(f"/tokens/{address('never traded')}/")
    malformed = admin_client.get("/tokens/0OIl/")

    assert unknown.status_code == 404 and "No tracked wallet has traded this token" in unknown.content.decode()
    assert malformed.status_code == 400 and "not a token" in malformed.content.decode()


def test_unknown_urls_and_server_errors_use_the_sites_templates(admin_client, client):
    missing = admin_client.get("/no/such/page/")
    assert missing.status_code == 404
    assert 'id="error-page"' in missing.content.decode() and "/no/such/page/" in missing.content.decode()

    from django.template.loader import render_to_string

    server_error = render_to_string("500.html")  # as Django's handler renders it: no request, no context
    assert "Something broke on our side" in server_error and 'rel="icon"' in server_error
    assert "Bad request" in render_to_string("400.html") and "forbidden" in render_to_string("403.html")


def test_the_icon_is_linked_from_every_page_and_answers_at_the_usual_address(admin_client, client):
    assert 'rel="icon" href="/static/favicon.svg"' in admin_client.get("/").content.decode()
    assert 'rel="icon"' in client.get("/accounts/login/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
