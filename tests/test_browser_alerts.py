"""Alerts and the live feed in a real Chromium against Daphne: sound starts on the first click, desktop
alerts fire on every AURA page, and the feed can be narrowed and stays a bounded size."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from alerts.actions import set_browser_alerts
from aura.realtime import FEED_TRADES, send_html
from tests.builders import address, usdc_swap
from tests.conftest import PASSWORD, log_in, off_the_browser_thread
from tests.test_browser_live import RECORD_NOTIFICATIONS
from whales.models import TrackedWallet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_sound_of_alerts_starts_with_the_first_click(daphne_server, new_page, alice):
    set_browser_alerts(alice, sound=True, min_usd=1000)
    page = new_page()
    log_in(page, daphne_server, "alice", PASSWORD)
    assert page.evaluate("window.AURA.audioState()") in ("none", "suspended")

    page.locator("h1").click()

    page.wait_for_function("() => window.AURA.audioState() === 'running'", timeout=5000)


def test_desktop_alerts_fire_on_a_wallet_page_and_the_settings_page_too(daphne_server, new_page, alice):
    set_browser_alerts(alice, desktop=True, min_usd=1000)
    quiet = TrackedWallet.objects.create(address=address("quiet whale"), label="Quiet whale")
    loud = TrackedWallet.objects.create(address=address("loud whale elsewhere"), label="Loud whale")
    pages = []
    for path in (f"/wallets/{quiet.address}/", "/settings/alerts/"):
        page = new_page()
        page.add_init_script(RECORD_NOTIFICATIONS)
        log_in(page, daphne_server, "alice", PASSWORD)
        page.goto(f"{daphne_server.url}{path}")
        page.wait_for_load_state("networkidle")
        pages.append(page)

    daphne_server.post_webhook([usdc_swap(loud.address, address("loud token"), "buy", "50", "5000", 1_760_000_000)])

    for page in pages:
        page.wait_for_function("() => window.__notifications.length === 1")
        notification = page.evaluate("window.__notifications[0]")
        assert "Loud whale buy" in notification["body"] and "$5,000.00" in notification["body"]


def test_the_feed_can_be_narrowed_and_live_rows_that_do_not_match_stay_out(daphne_server, new_page, alice):
    whale = TrackedWallet.objects.create(address=address("filtered whale"), label="Filtered whale")
    token = address("filtered token")
    page = new_page()
    log_in(page, daphne_server, "alice", PASSWORD)
    expect(page.locator("#connection")).to_have_text("live")

    page.locator("#feed-filters select[name=side]").select_option("sell")
    expect(page.locator("#swap-feed")).to_have_attribute("data-side", "sell")
    daphne_server.post_webhook([usdc_swap(whale.address, token, "buy", "10", "10", 1_760_000_000)])
    daphne_server.post_webhook([usdc_swap(whale.address, token, "sell", "5", "7", 1_760_000_060)])

    expect(page.locator("#swap-feed .feed-row")).to_have_count(1)
    expect(page.locator("#swap-feed .feed-row .side")).to_have_text("sell")
    page.locator("#feed-filters select[name=side]").select_option("")
    expect(page.locator("#swap-feed .feed-row")).to_have_count(2)


def test_the_feed_keeps_a_bounded_number_of_rows_and_pages_back_from_the_oldest_it_shows(
    daphne_server, new_page, alice
):
    page = new_page()
    log_in(page, daphne_server, "alice", PASSWORD)
    expect(page.locator("#connection")).to_have_text("live")
    rows = "".join(
        f'<div class="feed-row buy" id="swap-{n}" data-swap-id="{n}" data-side="buy" data-usd="1">row {n}</div>'
        for n in range(1000, 790, -1)
    )

    off_the_browser_thread(send_html, FEED_TRADES, f'<div id="swap-feed" hx-swap-oob="afterbegin">{rows}</div>')

    expect(page.locator("#swap-feed .feed-row")).to_have_count(200)
    expect(page.locator("#swap-feed .feed-row").last).to_have_id("swap-801")
    more = page.locator("#feed-panel .more")
    expect(more).to_be_visible()
    expect(more).to_have_attribute("hx-get", "/feed/?before=801")
    expect(more).to_have_attribute("href", "/feed/?before=801")
