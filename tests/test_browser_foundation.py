"""A real Chromium against a real Daphne: the login form, and a fragment pushed over the socket."""

import pytest
from playwright.sync_api import expect

from aura.realtime import FEED_TRADES, send_html
from tests.conftest import log_in, off_the_browser_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alice_logs_in_through_the_form_and_sees_the_dashboard(daphne_server, new_page, alice):
    page = new_page()
    log_in(page, daphne_server, "alice", "correct horse battery staple")
    expect(page.get_by_role("heading", name="Whale leaderboard")).to_be_visible()
    expect(page.locator(".who")).to_have_text("alice")
    expect(page.locator("#feed-empty")).to_contain_text("No swaps yet")


def test_a_wrong_password_keeps_alice_out(daphne_server, new_page, alice):
    page = new_page()
    page.goto(f"{daphne_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "not her password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")


def test_html_pushed_from_python_over_the_channel_layer_appears_in_the_page(daphne_server, new_page, alice):
    page = new_page()
    log_in(page, daphne_server, "alice", "correct horse battery staple")
    expect(page.locator("#connection")).to_have_text("live")

    off_the_browser_thread(
        send_html,
        FEED_TRADES,
        '<div id="swap-feed" hx-swap-oob="afterbegin"><div class="feed-row" id="pushed-row">'
        "pushed from Python &lt;b&gt;escaped&lt;/b&gt;</div></div>",
    )

    expect(page.locator("#pushed-row")).to_have_text("pushed from Python <b>escaped</b>")
