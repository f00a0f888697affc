"""Live pages in a real Chromium against Daphne: a webhook delivery reaches every open dashboard, and a
page that lost its socket catches up exactly once."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.builders import address, usdc_swap
from tests.conftest import PASSWORD, log_in, off_the_browser_thread
from whales.ingestion.ingest import ingest
from whales.models import ArrivedVia, Swap, TrackedWallet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).parent / "fixtures" / "helius"
JUPITER_TRADER = "FCHTRYx6npkQCogtpZtEFLJeevAFGbDHhJyvqvT6F4kX"


def real_payload(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_a_webhook_delivery_appears_in_two_users_feeds_and_updates_the_leaderboard_row(
    daphne_server, new_page, alice, bob
):
    trader = TrackedWallet.objects.create(address=JUPITER_TRADER, label="Jupiter trader")
    # An earlier swap, so the trader already has a leaderboard row when the pages open.
    off_the_browser_thread(
        ingest, [real_payload("helius_swap_JUPITER_usdc_to_sol_invariant.json")], ArrivedVia.POLL
    )
    pages = []
    for user in ("alice", "bob"):
        page = new_page()
        log_in(page, daphne_server, user, PASSWORD)
        page.goto(f"{daphne_server.url}/?window=all")  # the real payloads are from 2024
        expect(page.locator("#connection")).to_have_text("live")
        pages.append(page)
    row = f"#wallet-row-{trader.id}"
    for page in pages:
        expect(page.locator(f"{row} [data-col=swaps]")).to_have_text("1")
        expect(page.locator(f"{row} [data-col=volume]")).to_have_text("$69.00")

    delivery = real_payload("helius_swap_JUPITER_usdc_to_sol_raydium_clmm.json")
    response = daphne_server.post_webhook([delivery])

    assert response.status_code == 200 and response.json()["new_swaps"] == 1
    swap = Swap.objects.get(signature=delivery["signature"])
    for page in pages:
        new_row = page.locator(f"#swap-{swap.id}")
        expect(new_row).to_contain_text("Jupiter trader")
        expect(new_row).to_contain_text("$150.00")
        expect(page.locator("#swap-feed .feed-row").first).to_have_id(f"swap-{swap.id}")
        expect(page.locator(f"{row} [data-col=swaps]")).to_have_text("2")
        expect(page.locator(f"{row} [data-col=volume]")).to_have_text("$219.00")
    assert pages[0].url.endswith("/?window=all")  # no reload happened: same page, updated in place


# Marks the ages the page shows now and counts every later write to one of them that is still shown.
WATCH_AGES = """
() => {
  const watched = new WeakSet(document.querySelectorAll("time.age"));
  window.__ageWrites = 0;
  new MutationObserver((records) => {
    for (const record of records) {
      const element = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      if (element && watched.has(element) && element.isConnected) window.__ageWrites += 1;
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def test_a_push_flashes_the_changed_figures_only_and_rewrites_no_age_that_still_reads_the_same(
    daphne_server, new_page, alice
):
    # Each push used to force a layout per changed cell and rewrite every age on the page: with a
    # swap a second, the next push waited behind that work in the browser.
    trader = TrackedWallet.objects.create(address=JUPITER_TRADER, label="Jupiter trader")
    off_the_browser_thread(
        ingest, [real_payload("helius_swap_JUPITER_usdc_to_sol_invariant.json")], ArrivedVia.WEBHOOK
    )
    page = new_page()
    log_in(page, daphne_server, "alice", PASSWORD)
    page.goto(f"{daphne_server.url}/?window=all")  # the real payloads are from 2024: ages in days
    expect(page.locator("#connection")).to_have_text("live")
    row = f"#wallet-row-{trader.id}"
    expect(page.locator(f"{row} [data-col=swaps]")).to_have_text("1")
    expect(page.locator("#swap-feed time.age")).to_have_count(1)
    page.evaluate(WATCH_AGES)

    delivery = real_payload("helius_swap_JUPITER_usdc_to_sol_raydium_clmm.json")
    assert daphne_server.post_webhook([delivery]).json()["new_swaps"] == 1

    expect(page.locator(f"{row} [data-col=swaps]")).to_have_text("2")
    for changed in ("swaps", "volume"):
        expect(page.locator(f"{row} [data-col={changed}]")).to_have_class(re.compile(r"\bflash\b"))
    expect(page.locator(f"{row} [data-col=cycles]")).not_to_have_class(re.compile(r"flash"))
    new_row = page.locator(f"#swap-{Swap.objects.get(signature=delivery['signature']).id}")
    expect(new_row).to_have_class(re.compile(r"\bflash\b"))
    # The flash is an overlay whose opacity fades: the compositor animates it without repainting the page.
    assert new_row.evaluate("row => getComputedStyle(row, '::after').animationName") == "flash"
    page.wait_for_timeout(1_500)  # the page's own clock redraws ages every second
    assert page.evaluate("window.__ageWrites") == 0


def test_swaps_ingested_while_the_socket_is_down_appear_exactly_once_after_it_comes_back(
    own_daphne_server, new_page, alice
):
    whale = TrackedWallet.objects.create(address=address("reconnect whale"), label="Reconnect whale")
    token = address("reconnect token")

    def swap_at(n: int) -> dict:
        return usdc_swap(whale.address, token, "buy", str(n), str(n), 1_760_000_000 + n, seed=f"reconnect {n}")

    off_the_browser_thread(ingest, [swap_at(1)], ArrivedVia.WEBHOOK)
    page = new_page()
    log_in(page, own_daphne_server, "alice", PASSWORD)
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#swap-feed .feed-row")).to_have_count(1)

    own_daphne_server.stop()
    expect(page.locator("#connection")).to_have_text("reconnecting…")
    for n in (2, 3, 4):  # committed and pushed while no socket listens: this page misses the pushes
        off_the_browser_thread(ingest, [swap_at(n)], ArrivedVia.WEBHOOK)
    own_daphne_server.start()

    expect(page.locator("#connection")).to_have_text("live", timeout=30_000)
    expect(page.locator("#swap-feed .feed-row")).to_have_count(4)
    own_daphne_server.post_webhook([swap_at(5)])
    expect(page.locator("#swap-feed .feed-row")).to_have_count(5)
    ids = page.locator("#swap-feed .feed-row").evaluate_all("rows => rows.map(r => r.id)")
    expected = [f"swap-{pk}" for pk in Swap.objects.order_by("-block_time").values_list("id", flat=True)]
    assert ids == expected  # each once, newest first


RECORD_NOTIFICATIONS = """
window.__notifications = [];
window.Notification = function (title, options) {
  window.__notifications.push({ title: title, body: options && options.body });
  return { close: function () {} };
};
window.Notification.permission = "granted";
window.Notification.requestPermission = function () { return Promise.resolve("granted"); };
"""


def test_a_user_who_opted_in_is_notified_of_large_swaps_only(daphne_server, new_page, alice):
    from alerts.actions import set_browser_alerts

    set_browser_alerts(alice, desktop=True, min_usd=1000)
    whale = TrackedWallet.objects.create(address=address("loud whale"), label="Loud whale")
    page = new_page()
    page.add_init_script(RECORD_NOTIFICATIONS)  # the browser's Notification API is the edge we observe
    log_in(page, daphne_server, "alice", PASSWORD)
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#feed-empty")).to_be_visible()

    token = address("loud token")
    daphne_server.post_webhook([usdc_swap(whale.address, token, "buy", "10", "999", 1_760_000_000)])
    daphne_server.post_webhook([usdc_swap(whale.address, token, "buy", "50", "5000", 1_760_000_060)])

    expect(page.locator("#swap-feed .feed-row")).to_have_count(2)
    expect(page.locator("#feed-empty")).to_have_count(0)  # the empty-feed note leaves with the first row
    notifications = page.evaluate("window.__notifications")
    assert len(notifications) == 1
    assert notifications[0]["title"] == "AURA · large swap"
    assert "Loud whale buy" in notifications[0]["body"] and "$5,000" in notifications[0]["body"]


def test_the_page_shows_when_its_connection_drops_and_catches_up_when_the_network_returns(
    daphne_server, new_page, alice
):
    whale = TrackedWallet.objects.create(address=address("offline whale"), label="Offline whale")
    token = address("offline token")
    page = new_page()
    log_in(page, daphne_server, "alice", PASSWORD)
    expect(page.locator("#connection")).to_have_text("live")

    page.context.set_offline(True)
    expect(page.locator("#connection")).to_have_text("reconnecting…")
    off_the_browser_thread(
        ingest, [usdc_swap(whale.address, token, "buy", "7", "7", 1_760_000_000)], ArrivedVia.WEBHOOK
    )
    page.context.set_offline(False)

    expect(page.locator("#connection")).to_have_text("live", timeout=30_000)
    expect(page.locator("#swap-feed .feed-row")).to_have_count(1)
    expect(page.locator("#swap-feed .feed-row").first).to_contain_text("Offline whale")
