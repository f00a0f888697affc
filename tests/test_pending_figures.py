"""Figures not known yet say so ("loading…", "pricing…") instead of reading $0.00, and tracked
wallets are on the leaderboard from the moment they are tracked."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.builders import address, usdc_swap
from tests.support.helius import RAYDIUM_BUYER, raydium_history
from whales import fragments
from whales.books import ledger
from whales.books.stats import refresh_stats
from whales.ingestion.ingest import ingest
from whales.models import ArrivedVia, BackfillState, Position, Token, TrackedWallet, WalletStats
from whales.wallets import import_wallets

pytestmark = pytest.mark.django_db

NOW = int(timezone.now().timestamp())


def cells(html: str, wallet: TrackedWallet) -> dict[str, str]:
    """The leaderboard row of `wallet`: data-col → the cell's text."""
    row = re.search(rf'<tr id="wallet-row-{wallet.id}".*?</tr>', html, re.S).group(0)
    found = re.findall(r'data-col="(\w+)">(.*?)</td>', row, re.S)
    return {name: re.sub(r"<[^>]+>", "", text).strip() for name, text in found}


def test_wallets_are_on_the_leaderboard_the_moment_they_are_tracked_with_their_figures_loading(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        import_wallets(
            [
                (1, {"address": address("fresh one"), "label": "Fresh one"}),
                (2, {"address": address("fresh two"), "label": "Fresh two"}),
            ]
        )

    html = admin_client.get("/").content.decode()

    assert "No wallets tracked yet" not in html
    for wallet in TrackedWallet.objects.all():
        row = cells(html, wallet)
        assert row["total"] == row["realized"] == row["unrealized"] == row["volume"] == "loading…"
        assert "$0.00" not in row.values()
    assert html.count("history queued") + html.count("history 0 %") == 2


def test_the_leaderboard_refreshed_over_htmx_does_not_claim_that_no_wallet_is_tracked(admin_client):
    # Tracked, but no figures row yet (as a wallet added before figures rows were made at once).
    TrackedWallet.objects.create(address=address("tracked, not booked"), label="tracked")

    refreshed = admin_client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="leaderboard").content.decode()

    assert "No wallets tracked yet" not in refreshed
    assert "1 wallet tracked" in refreshed


def test_an_open_position_in_a_token_without_a_price_reads_pricing_not_zero(admin_client):
    wallet = TrackedWallet.objects.create(address=address("early buyer"), label="early buyer")
    TrackedWallet.objects.filter(id=wallet.id).update(backfill_state=BackfillState.DONE)
    mint = address("unpriced token")
    ingest([usdc_swap(wallet.address, mint, "buy", "1000", "250", NOW - 600)], ArrivedVia.WEBHOOK)
    assert Token.objects.get(mint=mint).price_usd is None

    row = cells(admin_client.get("/").content.decode(), wallet)
    page = admin_client.get(f"/wallets/{wallet.address}/").content.decode()

    assert row["unrealized"] == row["total"] == row["roi"] == "pricing…"
    assert row["volume"] == "$250.00" and row["realized"] == "$0.00"  # known: no sell yet, $250 traded
    assert WalletStats.objects.get(wallet=wallet, window="7d").unpriced_positions == 1
    positions = page[page.index('id="positions"') :]
    assert "pricing…" in positions and "$0.00" not in positions.split("</tr>")[1]

    Token.objects.filter(mint=mint).update(price_usd=Decimal("0.3"), price_updated_at=timezone.now())
    refresh_stats(ledger.revalue_open_positions([Token.objects.get(mint=mint).id], [wallet.id]))  # as a tick
    row = cells(admin_client.get("/").content.decode(), wallet)
    assert row["unrealized"] == "+$50.00" and row["total"] == "+$50.00"


def test_a_wallet_whose_buys_wait_for_a_sol_price_shows_them_as_pricing_not_as_no_positions(admin_client):
    wallet = TrackedWallet.objects.create(address=RAYDIUM_BUYER, label="two buys", backfill_state=BackfillState.DONE)
    ingest(raydium_history(2), ArrivedVia.WEBHOOK)  # quoted in SOL; no SOL/USD price stored
    assert Position.objects.get(wallet=wallet).pending_trades == 2

    page = admin_client.get(f"/wallets/{wallet.address}/").content.decode()
    row = cells(admin_client.get("/?window=all").content.decode(), wallet)

    assert "No open positions" not in page
    assert "2 trades wait for a USD price" in page
    assert row["total"] == row["realized"] == row["unrealized"] == row["volume"] == "pricing…"


def test_figures_partly_known_show_their_number_and_the_row_says_what_waits_for_a_price(admin_client):
    wallet = TrackedWallet.objects.create(address=RAYDIUM_BUYER, label="mostly priced", backfill_state="done")
    mint = address("priced token")
    round_trip = [
        usdc_swap(wallet.address, mint, "buy", "100", "100", NOW - 900),
        usdc_swap(wallet.address, mint, "sell", "100", "130", NOW - 600),
    ]
    ingest(round_trip, ArrivedVia.WEBHOOK)
    ingest(raydium_history(1, newest_time=NOW - 300), ArrivedVia.WEBHOOK)  # one SOL buy, not valued yet

    html = admin_client.get("/").content.decode()
    row = cells(html, wallet)

    assert row["realized"] == "+$30.00" and row["volume"] == "$230.00"
    assert "pricing 1" in html


def test_wallet_pages_pushed_together_read_as_each_wallets_own_fragments():
    traded = TrackedWallet.objects.create(
        address=address("many tokens"), label="many", backfill_state=BackfillState.DONE
    )
    ingest(
        [
            usdc_swap(traded.address, address(f"held {n}"), "buy", "100", str(10 * n + 5), NOW - 900 + n)
            for n in range(3)
        ]
        + [usdc_swap(traded.address, address("held 0"), "sell", "40", "9", NOW - 60)],
        ArrivedVia.WEBHOOK,
    )
    waiting = TrackedWallet.objects.create(address=RAYDIUM_BUYER, label="waits", backfill_state=BackfillState.DONE)
    ingest(raydium_history(2), ArrivedVia.WEBHOOK)
    loading = TrackedWallet.objects.create(address=address("just tracked"), label="loading")
    wallets = list(TrackedWallet.objects.filter(id__in=[traded.id, waiting.id, loading.id]))

    together = fragments.wallet_pages(wallets, oob=True)

    for wallet in wallets:
        alone = fragments.wallet_stats(wallet, oob=True) + fragments.wallet_positions(wallet, oob=True)
        assert together[wallet.id] == alone
    assert "wait for a USD price" in together[waiting.id] and "No open positions" in together[loading.id]
