"""Token signals live in a real Chromium against Daphne and a Celery worker: a scripted episode of
webhook deliveries makes a whale-accumulation signal appear on an open /signals/ page, with its
reasons, without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from signals.models import Signal
from tests.builders import address, usdc_swap
from tests.conftest import log_in
from whales.models import Token, TrackedWallet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
HOSTILE_SYMBOL = "<img src=x onerror=alert(1)>"


def test_a_scripted_whale_episode_makes_an_accumulation_signal_appear_on_the_open_signals_page(
    daphne_server, new_page, alice
):
    whales = [TrackedWallet.objects.create(address=address(f"episode whale {n}"), label=f"Whale {n}") for n in range(3)]
    mint = address("episode token")
    Token.objects.create(mint=mint, symbol=HOSTILE_SYMBOL, name="Episode")
    page = new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, daphne_server, "alice", PASSWORD)
    page.goto(f"{daphne_server.url}/signals/")
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#signal-feed-empty")).to_be_visible()

    for n, whale in enumerate(whales):  # three whales buy the token within two minutes, one delivery each
        delivery = usdc_swap(whale.address, mint, "buy", "1000", str(500 + 100 * n), 1_760_000_000 + 60 * n)
        assert daphne_server.post_webhook([delivery]).status_code == 200

    row = page.locator("#signal-feed .signal-row.whale_accumulation")
    expect(row).to_have_count(1, timeout=20_000)
    expect(row).to_contain_text("whale accumulation")
    expect(row.locator(".symbol")).to_have_text(HOSTILE_SYMBOL)  # shown as text, never run
    expect(page.locator("#signal-feed-empty")).to_have_count(0)
    row.locator("summary").click()
    expect(row).to_contain_text("3 tracked wallets net-buying within 30 min")
    for whale in whales:
        expect(row.locator(f'a[href="/wallets/{whale.address}/"]')).to_have_count(1)
    expect(row.locator(f'a[href="/tokens/{mint}/"]')).to_have_count(1)
    assert page.url == f"{daphne_server.url}/signals/"  # no reload: the same page, updated in place
    assert dialogs == []
    signal = Signal.objects.get(kind="whale_accumulation")
    assert signal.wallet_count == 3 and row.get_attribute("id") == f"signal-{signal.id}"
