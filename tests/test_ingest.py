"""Ingestion: every path (webhook, poll, backfill) through one `ingest`, each swap stored once."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.builders import address, spl_transfer, usdc_swap
from tests.support.helius import (
    RAYDIUM_BUYER,
    SECRET,
    fixture_tx,
    helius_for,
    paged,
    post_webhook,
    raydium_buy,
    raydium_history,
    signature,
)
from tests.support.http import Reply
from whales import tasks
from whales.books.booking import positions_rewritten
from whales.ingestion.ingest import ingest
from whales.ingestion.reparse import reparse
from whales.ingestion.sources import (
    POLL_OVERLAP,
    backfill_retry_delay,
    backfill_step,
    claim_due_wallets,
    poll_budget_stretch,
    poll_interval,
    poll_plan,
    poll_wallet,
    start_backfill,
)
from whales.market.prices import sol_token
from whales.models import ArrivedVia, BackfillState, Position, RawTransaction, Swap, TokenTransfer, TrackedWallet

pytestmark = pytest.mark.django_db

PUMP_TOKEN = "9ky9gGxHiqUidFXvJ46muFgrJCweBiwKzamCidHmpump"
JUPITER_TRADER = "FCHTRYx6npkQCogtpZtEFLJeevAFGbDHhJyvqvT6F4kX"


@pytest.fixture
def raydium_whale() -> TrackedWallet:
    return TrackedWallet.objects.create(address=RAYDIUM_BUYER, label="Raydium whale")


def stored_swaps() -> list[tuple]:
    return sorted(
        Swap.objects.values_list("signature", "wallet__address", "token__mint", "side", "token_amount", "quote_amount")
    )


# --- the webhook ---------------------------------------------------------------------------------


@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
def test_a_webhook_delivery_stores_the_swap_the_raw_transaction_and_its_token(client, raydium_whale):
    response = post_webhook(client, [raydium_buy()])

    assert response.status_code == 200
    assert response.json() == {
        "received": 1,
        "new_transactions": 1,
        "new_swaps": 1,
        "new_transfers": 0,
        "quarantined": 0,
        "rejected": [],
    }
    swap = Swap.objects.get()
    assert (swap.wallet, swap.token.mint, swap.side) == (raydium_whale, PUMP_TOKEN, "buy")
    assert (swap.token_amount, swap.quote_amount) == (Decimal("18663.358445"), Decimal("0.01"))
    assert swap.token.decimals == 6
    assert swap.arrived_via == ArrivedVia.WEBHOOK
    assert swap.block_time.timestamp() == 1719909927
    assert RawTransaction.objects.get().payload == raydium_buy()
    raydium_whale.refresh_from_db()
    assert raydium_whale.last_swap_at == swap.block_time


@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
def test_the_same_transaction_by_webhook_twice_and_by_poll_is_one_row(client, raydium_whale, server):
    assert post_webhook(client, [raydium_buy()]).json()["new_swaps"] == 1
    assert post_webhook(client, [raydium_buy(), raydium_buy()]).json()["new_swaps"] == 0
    server.responder = paged([raydium_buy()])
    raydium_whale.newest_signature = "1" * 64  # an older cursor, so the poll walks down to it
    raydium_whale.save()

    assert poll_wallet(raydium_whale, helius_for(server)) == 0

    assert Swap.objects.count() == 1
    assert RawTransaction.objects.count() == 1
    assert Swap.objects.get().arrived_via == ArrivedVia.WEBHOOK


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + " "])
@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
def test_a_webhook_without_the_right_secret_is_refused_and_stores_nothing(client, raydium_whale, secret):
    response = post_webhook(client, [raydium_buy()], secret=secret)

    assert response.status_code == 401
    assert Swap.objects.count() == 0 and RawTransaction.objects.count() == 0


@override_settings(HELIUS_WEBHOOK_SECRET="")
def test_a_webhook_is_refused_while_no_secret_is_configured(client, raydium_whale):
    assert post_webhook(client, [raydium_buy()], secret="").status_code == 401


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"[{", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        ({"signature": "x"}, "must be a JSON array"),
        (b"null", "must be a JSON array"),
    ],
)
@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
def test_a_malformed_webhook_body_gets_400_and_a_log_line(client, raydium_whale, caplog, body, error):
    response = post_webhook(client, body)

    assert response.status_code == 400
    assert error in response.json()["error"]
    assert any("helius webhook" in record.getMessage() for record in caplog.records)
    assert Swap.objects.count() == 0


@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
def test_unreadable_items_are_rejected_while_the_good_ones_are_kept(client, raydium_whale):
    garbled = copy.deepcopy(raydium_buy())
    garbled["signature"] = signature(7)
    garbled["accountData"] = "not a list"
    response = post_webhook(client, [42, {"no": "signature"}, garbled, raydium_buy()])

    assert response.status_code == 200
    body = response.json()
    assert body["new_swaps"] == 1
    assert len(body["rejected"]) == 3
    assert "accountData should be a list" in body["rejected"][2]
    assert Swap.objects.get().signature == raydium_buy()["signature"]


@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
def test_transactions_of_wallets_we_do_not_track_add_no_swaps(client, raydium_whale):
    jupiter = fixture_tx("helius_swap_JUPITER_usdc_to_sol_raydium_clmm.json")

    assert post_webhook(client, [jupiter]).json()["new_swaps"] == 0
    TrackedWallet.objects.create(address=JUPITER_TRADER, is_active=False)
    assert post_webhook(client, [jupiter]).json()["new_swaps"] == 0  # deactivated wallets ingest nothing


def test_a_get_on_the_webhook_is_not_allowed(client):
    assert client.get("/hooks/helius/").status_code == 405


# --- valuation -------------------------------------------------------------------------------------


def test_usdc_quoted_swaps_are_valued_one_to_one(raydium_whale):
    TrackedWallet.objects.create(address=JUPITER_TRADER)
    ingest([fixture_tx("helius_swap_JUPITER_usdc_to_sol_raydium_clmm.json")], ArrivedVia.WEBHOOK)

    swap = Swap.objects.get(wallet__address=JUPITER_TRADER)
    assert (swap.token.mint, swap.quote_amount, swap.usd_value) == (
        "So11111111111111111111111111111111111111112",
        Decimal("150"),
        Decimal("150"),
    )
    assert swap.usd_price == Decimal("149.970401841492563027760841")


def test_sol_quoted_swaps_take_the_nearest_sol_price_within_ten_minutes(raydium_whale):
    sol = sol_token()
    at = datetime.fromtimestamp(1719909927 - 300, UTC)
    sol.prices.create(at=at, price_usd=Decimal("145.50"), source="birdeye")
    sol.prices.create(at=at - timedelta(hours=1), price_usd=Decimal("999"), source="birdeye")

    ingest([raydium_buy()], ArrivedVia.WEBHOOK)

    swap = Swap.objects.get()
    assert swap.usd_value == Decimal("1.455")  # 0.01 SOL at $145.50
    assert swap.usd_price == Decimal("0.000077960245166367751236")  # 0.01 / 18663.358445 × 145.50


def test_a_sol_quoted_swap_without_a_near_sol_price_waits_unvalued(raydium_whale):
    ingest([raydium_buy()], ArrivedVia.WEBHOOK)

    assert Swap.objects.get().usd_value is None


# --- polling -------------------------------------------------------------------------------------


def test_a_poll_killed_after_its_first_page_and_run_again_leaves_exactly_the_rows_of_an_uninterrupted_run(
    raydium_whale, server
):
    history = raydium_history(250)
    raydium_whale.newest_signature = signature(249)
    raydium_whale.save()

    server.responder = paged(history, fail_after_pages=1)
    poll_wallet(raydium_whale, helius_for(server))
    raydium_whale.refresh_from_db()
    assert Swap.objects.count() == 100  # the first page is in ...
    assert raydium_whale.newest_signature == signature(249)  # ... but the cursor did not move
    assert "simulated crash" in raydium_whale.last_error

    server.responder = paged(history)
    poll_wallet(raydium_whale, helius_for(server))
    interrupted_then_rerun = stored_swaps()

    Swap.objects.all().delete()
    RawTransaction.objects.all().delete()
    TrackedWallet.objects.filter(id=raydium_whale.id).update(newest_signature=signature(249), last_polled_at=None)
    raydium_whale.refresh_from_db()
    poll_wallet(raydium_whale, helius_for(server))

    assert interrupted_then_rerun == stored_swaps()
    assert len(interrupted_then_rerun) == 249  # everything newer than the old cursor, once
    raydium_whale.refresh_from_db()
    assert (raydium_whale.newest_signature, raydium_whale.last_error) == (signature(0), "")
    assert raydium_whale.last_polled_at is not None


def test_a_poll_of_a_wallet_never_seen_reads_only_its_newest_page(raydium_whale, server):
    server.responder = paged(raydium_history(250))

    poll_wallet(raydium_whale, helius_for(server))

    assert Swap.objects.count() == 100
    assert len(server.requests) == 1
    raydium_whale.refresh_from_db()
    assert raydium_whale.newest_signature == signature(0)


def test_a_poll_whose_cursor_helius_no_longer_lists_stops_at_the_last_polls_time(raydium_whale, server):
    history = raydium_history(250)  # a minute apart, newest first
    newest = history[0]["timestamp"]
    raydium_whale.newest_signature = "cursor" + signature(999)[6:]  # not in the history
    raydium_whale.last_polled_at = datetime.fromtimestamp(newest - 10 * 60, UTC)
    raydium_whale.save()
    server.responder = paged(history)

    poll_wallet(raydium_whale, helius_for(server))

    # The first page reaches back 99 minutes, past the last poll less the hour's overlap: it stops there.
    assert newest - history[99]["timestamp"] > 10 * 60 + POLL_OVERLAP.total_seconds()
    assert (len(server.requests), Swap.objects.count()) == (1, 100)
    raydium_whale.refresh_from_db()
    assert (raydium_whale.newest_signature, raydium_whale.last_error) == (signature(0), "")


@override_settings(POLL_ACTIVE_SECONDS=60, POLL_DORMANT_SECONDS=3600, POLL_CREDITS_PER_DAY=0)
def test_recently_active_wallets_are_due_sooner_than_dormant_ones(raydium_whale):
    now = timezone.now()
    dormant = TrackedWallet.objects.create(address=JUPITER_TRADER)
    raydium_whale.last_swap_at = now - timedelta(hours=1)

    assert poll_interval(raydium_whale, now) == timedelta(seconds=60)
    assert poll_interval(dormant, now) == timedelta(seconds=3600)


@override_settings(POLL_ACTIVE_SECONDS=60, POLL_DORMANT_SECONDS=600, POLL_CREDITS_PER_DAY=288_000)
def test_the_poll_cadence_stretches_to_stay_within_the_credit_budget(raydium_whale):
    TrackedWallet.objects.create(address=JUPITER_TRADER)
    # Two dormant wallets at one 100-credit poll every 10 minutes: 28,800 credits a day, 10 % of the budget.
    assert poll_plan().configured_credits == 28_800
    assert poll_budget_stretch() == 1.0
    with override_settings(POLL_CREDITS_PER_DAY=14_400):
        assert poll_budget_stretch() == 2.0


def test_due_wallets_are_claimed_once(raydium_whale):
    TrackedWallet.objects.create(address=JUPITER_TRADER, next_poll_at=timezone.now() + timedelta(hours=1))

    assert claim_due_wallets() == [raydium_whale.id]
    assert claim_due_wallets() == []


# --- backfill ------------------------------------------------------------------------------------


def test_a_backfill_resumes_where_it_stopped_and_reports_progress(raydium_whale, server):
    newest = int(timezone.now().timestamp()) - 60
    history = raydium_history(350, newest_time=newest)  # 350 minutes of history, all within the window
    server.responder = paged(history)
    start_backfill(raydium_whale, days=1)
    raydium_whale.refresh_from_db()

    assert backfill_step(raydium_whale, helius_for(server), max_pages=2) is False
    raydium_whale.refresh_from_db()
    assert (raydium_whale.backfill_cursor, raydium_whale.backfill_transactions) == (signature(199), 200)
    assert raydium_whale.newest_signature == signature(0)  # polling takes over from the top
    assert 0 < raydium_whale.backfill_progress() < 100
    assert Swap.objects.filter(arrived_via=ArrivedVia.BACKFILL).count() == 200

    assert backfill_step(raydium_whale, helius_for(server), max_pages=10) is True
    raydium_whale.refresh_from_db()
    assert raydium_whale.backfill_state == BackfillState.DONE
    assert raydium_whale.backfill_progress() == 100
    assert Swap.objects.count() == 350
    assert server.requests[2].param("before-signature") == signature(199)


def test_a_backfill_stops_at_its_depth(raydium_whale, server):
    newest = int(timezone.now().timestamp()) - 60
    server.responder = paged(raydium_history(300, newest_time=newest))  # one a minute: 5 hours
    start_backfill(raydium_whale, days=0)
    raydium_whale.refresh_from_db()
    raydium_whale.backfill_until = timezone.now() - timedelta(minutes=90)

    assert backfill_step(raydium_whale, helius_for(server), max_pages=10) is True
    assert 85 <= Swap.objects.count() <= 90


def test_a_backfill_the_provider_fails_waits_longer_after_each_failure_and_clears_its_error_when_it_succeeds(
    raydium_whale, server
):
    newest = int(timezone.now().timestamp()) - 60
    history = raydium_history(50, newest_time=newest)
    healthy = paged(history)
    server.responder = lambda request: Reply(503, {"error": "down"})
    start_backfill(raydium_whale, days=1)

    waits = []
    for _ in range(3):
        raydium_whale.refresh_from_db()
        assert backfill_step(raydium_whale, helius_for(server), max_pages=10) is False
        raydium_whale.refresh_from_db()
        waits.append(round((raydium_whale.backfill_retry_at - timezone.now()).total_seconds()))
    assert waits == [30, 60, 120]
    assert raydium_whale.backfill_failures == 3
    assert raydium_whale.backfill_state == BackfillState.RUNNING  # a provider outage is not the end of it
    assert raydium_whale.last_error.startswith("backfill: ") and "attempt 3" in raydium_whale.last_error
    assert backfill_retry_delay(20) == timedelta(minutes=30)

    server.responder = healthy
    assert backfill_step(raydium_whale, helius_for(server), max_pages=10) is True
    raydium_whale.refresh_from_db()
    assert (raydium_whale.backfill_state, raydium_whale.backfill_failures) == (BackfillState.DONE, 0)
    assert (raydium_whale.last_error, raydium_whale.backfill_retry_at) == ("", None)
    assert Swap.objects.count() == 50


def test_the_beat_leaves_a_backfill_waiting_out_a_failure_to_its_queued_retry(raydium_whale):
    waiting = TrackedWallet.objects.create(address=JUPITER_TRADER, label="waiting")
    for wallet in (raydium_whale, waiting):
        start_backfill(wallet)
    TrackedWallet.objects.filter(id=waiting.id).update(
        backfill_failures=2, backfill_retry_at=timezone.now() + timedelta(seconds=50)
    )

    assert tasks.resume_backfills() == 1  # the other one, whose task chain is gone


# --- reparse -------------------------------------------------------------------------------------


def test_reparse_rebuilds_swaps_from_the_stored_raw_transactions(raydium_whale):
    ingest([raydium_buy()], ArrivedVia.WEBHOOK)
    original = stored_swaps()
    swap = Swap.objects.get()
    Swap.objects.filter(id=swap.id).update(token_amount=Decimal("1"), side="sell")  # an old parser's mistake
    TrackedWallet.objects.create(address=JUPITER_TRADER)
    RawTransaction.objects.create(
        signature="x" * 88,
        payload=fixture_tx("helius_swap_JUPITER_usdc_to_sol_invariant.json") | {"signature": "x" * 88},
        arrived_via=ArrivedVia.POLL,
    )

    result = reparse(RawTransaction.objects.order_by("id"))

    assert (result.transactions, result.created, result.updated, result.deleted) == (2, 1, 1, 0)
    assert Swap.objects.get(id=swap.id).side == "buy"  # fixed in place, same row
    assert [s for s in stored_swaps() if s[1] == RAYDIUM_BUYER] == original
    assert Swap.objects.get(wallet__address=JUPITER_TRADER).arrived_via == ArrivedVia.POLL


def test_reparse_rebuilds_transfers_too_and_replays_their_positions(raydium_whale):
    mint = address("reparsed token")
    ingest([spl_transfer(address("someone"), RAYDIUM_BUYER, mint, "40", 1_760_000_000)], ArrivedVia.WEBHOOK)
    TokenTransfer.objects.all().delete()  # as if an older parser had not seen it

    result = reparse(RawTransaction.objects.order_by("id"))
    positions_rewritten(result.changed_pairs)

    transfer = TokenTransfer.objects.get()
    assert (transfer.direction, transfer.amount, transfer.arrived_via) == ("in", Decimal("40"), ArrivedVia.WEBHOOK)
    assert (result.created, len(result.changed_pairs)) == (1, 1)
    assert Position.objects.get(wallet=raydium_whale).pending_trades == 1  # no market price for it yet


def test_huge_amounts_and_high_prices_are_stored_exactly(raydium_whale):
    bonk_bag = usdc_swap(RAYDIUM_BUYER, address("ten billion"), "buy", "10000000000", "250000", 1_760_000_000)
    bitcoin = usdc_swap(RAYDIUM_BUYER, address("wrapped btc"), "buy", "0.5", "50000.25", 1_760_000_060, decimals=8)

    result = ingest([bonk_bag, bitcoin], ArrivedVia.WEBHOOK)

    assert result.rejected == [] and len(result.new_swaps) == 2
    bag, btc = Swap.objects.order_by("block_time")
    assert (bag.token_amount, bag.usd_value, bag.usd_price) == (
        Decimal("10000000000"),
        Decimal("250000"),
        Decimal("0.000025"),
    )
    assert (btc.token_amount, btc.price_in_quote, btc.usd_value) == (
        Decimal("0.5"),
        Decimal("100000.5"),
        Decimal("50000.25"),
    )


def test_the_webhook_sync_asks_helius_nothing_without_an_api_key(raydium_whale, server):
    server.script(Reply(200, []), Reply(200, {"webhookID": "wh-1"}))
    hook = {"HELIUS_BASE_URL": server.url, "HELIUS_WEBHOOK_SECRET": SECRET}

    with override_settings(HELIUS_API_KEY="", **hook):
        assert tasks.sync_helius_webhook() == ""
    assert server.requests == []

    with override_settings(HELIUS_API_KEY="test-key", **hook):
        assert tasks.sync_helius_webhook() == "wh-1"
    assert [(r.method, r.path) for r in server.requests] == [("GET", "/v0/webhooks"), ("POST", "/v0/webhooks")]
