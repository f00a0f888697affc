"""`recompute_all` and `manage.py recompute_pnl`: the bulk rebuild writes exactly the rows the
per-pair replay and incremental ingest write, for the wallets asked for and no others."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import timezone

from tests.builders import address, spl_transfer, usdc_swap
from whales.books import ledger, pnl, recompute
from whales.books.booking import book_stragglers
from whales.books.recompute import recompute_all
from whales.books.stats import refresh_stats
from whales.ingestion import ingest as ingestion
from whales.models import (
    ArrivedVia,
    Position,
    PositionCycle,
    Realization,
    Swap,
    Token,
    TokenTransfer,
    TrackedWallet,
    WalletStats,
)

pytestmark = pytest.mark.django_db

ALICE = address("alice the whale")
BOB = address("bob who copies alice")
CAROL = address("carol who never trades")
DAVE = address("dave, untracked, who sends alice tokens")
BONK = address("BONK")
WIF = address("WIF")
POPCAT = address("POPCAT")
MEW = address("MEW")
NOW = int(timezone.now().timestamp())
HOUR = 3600
DAY = 86_400
PRICES = {BONK: Decimal("0.0123"), WIF: Decimal("1.87"), MEW: Decimal("0.0042"), POPCAT: None}


@pytest.fixture
def alice_wallet() -> TrackedWallet:
    return TrackedWallet.objects.create(address=ALICE, label="Alice")


@pytest.fixture
def bob_wallet() -> TrackedWallet:
    return TrackedWallet.objects.create(address=BOB, label="Bob")


@pytest.fixture
def carol_wallet() -> TrackedWallet:
    return TrackedWallet.objects.create(address=CAROL, label="Carol")


@pytest.fixture
def priced_tokens() -> None:
    """Tokens with a current price, so open positions carry unrealized P&L; POPCAT without."""
    for mint, price in PRICES.items():
        Token.objects.create(mint=mint, decimals=6, price_usd=price, price_updated_at=timezone.now())


def ingest(*txs: dict, via: str = ArrivedVia.WEBHOOK) -> None:
    ingestion.ingest(list(txs), via)


def history(seed: int, trades: int = 90) -> list[dict]:
    """Alice and Bob trading BONK and WIF over the last day (minutes apart, some in the same second),
    with oversells, tokens Alice sends Bob (MEW he never trades), and POPCAT Dave sends Alice that
    has no price. No trade is near a window's edge, so stats do not change while a test runs."""
    rng = random.Random(seed)
    holdings = {(wallet, mint): Decimal(0) for wallet in (ALICE, BOB) for mint in (BONK, WIF)}
    holdings[(ALICE, WIF)], holdings[(BOB, WIF)] = Decimal(200), Decimal(100)
    txs = [
        usdc_swap(ALICE, WIF, "buy", "300", "600", NOW - 45 * HOUR),
        spl_transfer(ALICE, BOB, WIF, "100", NOW - 45 * HOUR + 120),  # priced from alice's swap: $2
        spl_transfer(DAVE, ALICE, POPCAT, "500", NOW - 30 * HOUR),  # no price anywhere: pending
        usdc_swap(ALICE, MEW, "buy", "1000", "5", NOW - 20 * HOUR),
        spl_transfer(ALICE, BOB, MEW, "400", NOW - 20 * HOUR + 60),  # bob never swaps MEW
    ]
    timestamp = NOW - 23 * HOUR
    for n in range(trades):
        wallet, mint = rng.choice([ALICE, BOB]), rng.choice([BONK, WIF])
        held = holdings[(wallet, mint)]
        timestamp += rng.choice([0, 0, 300, 600, 900])  # two in five share the second of the trade before
        price = Decimal(rng.randint(1, 400)) / 100
        roll = rng.random()
        if held > 0 and roll < 0.12 and wallet == ALICE:
            amount = min(held, Decimal(rng.randint(1, 200)))
            holdings[(ALICE, mint)] -= amount
            holdings[(BOB, mint)] += amount
            txs.append(spl_transfer(ALICE, BOB, mint, str(amount), timestamp))
            continue
        if held > 0 and roll < 0.5:
            side = "sell"
            amount = held + rng.randint(1, 50) if roll < 0.15 else min(held, Decimal(rng.randint(1, 400)))
            holdings[(wallet, mint)] = max(Decimal(0), held - amount)
        else:
            side, amount = "buy", Decimal(rng.randint(1, 400))
            holdings[(wallet, mint)] += amount
        txs.append(usdc_swap(wallet, mint, side, str(amount), str(amount * price), timestamp, seed=f"{seed}:{n}"))
    txs.append(usdc_swap(ALICE, POPCAT, "sell", "200", "7", NOW - 2 * HOUR))  # of the unpriced 500
    return txs


def ingest_in_random_order(txs: list[dict], seed: int) -> None:
    """In chunks of up to 7, shuffled: backfill and webhooks interleave, some trades arrive late."""
    arrival = txs[:]
    random.Random(seed).shuffle(arrival)
    for start in range(0, len(arrival), 7):
        ingest(*arrival[start : start + 7])


def _columns(model: type[models.Model], *left_out: str) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.name not in ("id", *left_out)]


def stored_pnl() -> dict[str, list[tuple]]:
    """Every derived row, ids and timestamps of writing aside, in a stable order."""
    return {
        "positions": sorted(Position.objects.values_list(*_columns(Position, "updated_at"))),
        "cycles": sorted(PositionCycle.objects.values_list(*_columns(PositionCycle))),
        "realizations": sorted(Realization.objects.values_list(*_columns(Realization))),
        "stats": sorted(WalletStats.objects.values_list(*_columns(WalletStats, "updated_at"))),
    }


def recompute_every_pair() -> None:
    """The per-pair path, over every (wallet, token) that has a trade or a position."""
    pairs = {
        *Swap.objects.values_list("wallet_id", "token_id"),
        *TokenTransfer.objects.values_list("wallet_id", "token_id"),
        *Position.objects.values_list("wallet_id", "token_id"),
    }
    refresh_stats(ledger.recompute_positions(pairs))


def test_it_writes_exactly_the_rows_incremental_ingest_left(alice_wallet, bob_wallet, priced_tokens):
    ingest_in_random_order(history(seed=1), seed=2)
    incremental = stored_pnl()

    summary = recompute_all()

    assert stored_pnl() == incremental
    counts = {name: len(rows) for name, rows in incremental.items()}
    assert (summary.positions, summary.cycles, summary.realizations) == (
        counts["positions"],
        counts["cycles"],
        counts["realizations"],
    )
    assert (summary.wallets, summary.swaps, summary.transfers) == (
        2,
        Swap.objects.count(),
        TokenTransfer.objects.count(),
    )


def test_the_history_covers_what_the_bulk_path_must_get_right(alice_wallet, bob_wallet, priced_tokens):
    ingest_in_random_order(history(seed=1), seed=2)

    recompute_all()

    assert Realization.objects.filter(missing_amount__gt=0).count() >= 2  # oversells
    assert PositionCycle.objects.filter(complete=False).exists()  # a transfer out or an oversell in it
    # One opened by alice's transfer.
    assert PositionCycle.objects.filter(wallet=bob_wallet, opened_key__startswith="t").exists()
    assert TokenTransfer.objects.filter(direction="out").count() >= 2
    assert PositionCycle.objects.filter(closed_at=None).exists()  # open cycles: running figures
    assert Position.objects.filter(unrealized_pnl__isnull=False).exists()
    popcat = Position.objects.get(wallet=alice_wallet, token__mint=POPCAT)
    assert (popcat.pending_trades, popcat.holdings, popcat.missing_amount) == (1, 0, Decimal("200"))
    mew = Position.objects.get(wallet=bob_wallet, token__mint=MEW)  # from a transfer alone
    assert (mew.holdings, mew.cost_basis, mew.unrealized_pnl) == (Decimal("400"), Decimal("2"), Decimal("-0.32"))
    swaps = Swap.objects.values_list("wallet_id", "block_time")
    assert len(set(swaps)) < len(swaps)  # same-second trades


def test_it_writes_exactly_the_rows_of_recompute_position_pair_by_pair(alice_wallet, bob_wallet, priced_tokens):
    ingest_in_random_order(history(seed=3), seed=4)
    alices_bonk = Swap.objects.filter(wallet=alice_wallet, token__mint=BONK)
    first_five = alices_bonk.order_by("block_time", "id").values_list("id", flat=True)[:5]
    Swap.objects.filter(id__in=list(first_five)).update(usd_price=None, usd_value=None)  # waiting to be valued
    for trades in (Swap.objects, TokenTransfer.objects):  # bob's WIF position stays, empty
        trades.filter(wallet=bob_wallet, token__mint=WIF).delete()
    recompute_every_pair()
    per_pair = stored_pnl()

    recompute_all()

    assert stored_pnl() == per_pair
    assert Position.objects.get(wallet=alice_wallet, token__mint=BONK).pending_trades == 5
    assert Position.objects.get(wallet=bob_wallet, token__mint=WIF).book == pnl.TokenBook(WIF).to_dict()


def test_batches_of_a_few_wallets_write_the_same_rows_and_report_progress(
    alice_wallet, bob_wallet, carol_wallet, priced_tokens, monkeypatch
):
    ingest_in_random_order(history(seed=5), seed=6)
    refresh_stats([carol_wallet.id])  # she never traded: she has stats once something refreshed them
    incremental = stored_pnl()
    monkeypatch.setattr(recompute, "BATCH_SWAPS", 1)  # one wallet a batch
    calls = []

    summary = recompute_all(progress=lambda done, total: calls.append((done, total)))

    assert stored_pnl() == incremental
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert summary.batches == 3


def test_it_only_touches_the_wallets_asked_for(alice_wallet, bob_wallet, priced_tokens):
    ingest_in_random_order(history(seed=7), seed=8)
    expected = stored_pnl()
    Position.objects.update(realized_pnl=Decimal("999"))
    PositionCycle.objects.update(realized_pnl=Decimal("999"))
    Realization.objects.update(realized_pnl=Decimal("999"))
    WalletStats.objects.update(realized_pnl=Decimal("999"))

    summary = recompute_all([alice_wallet.id, 10**9])  # and an id of no wallet

    assert summary.wallets == 1
    for model in (Position, PositionCycle, Realization, WalletStats):
        assert set(model.objects.filter(wallet=bob_wallet).values_list("realized_pnl", flat=True)) == {Decimal("999")}
    after = stored_pnl()
    for name in expected:
        alices = [row for row in after[name] if alice_wallet.id in row[:3]]
        assert alices == [row for row in expected[name] if alice_wallet.id in row[:3]], name


def test_what_it_replayed_is_booked_so_the_straggler_sweep_leaves_it_alone(alice_wallet, bob_wallet, priced_tokens):
    ingest_in_random_order(history(seed=13), seed=14)
    expected = stored_pnl()
    a_while_ago = timezone.now() - timedelta(minutes=10)
    for trades in (Swap.objects, TokenTransfer.objects):  # as a bulk import leaves them
        trades.update(in_books=False, ingested_at=a_while_ago)

    recompute_all()

    assert book_stragglers() == 0
    assert stored_pnl() == expected
    assert not Swap.objects.filter(in_books=False).exists()
    unbooked = TokenTransfer.objects.filter(in_books=False)  # incoming without a price: pending, not in books
    assert {(direction, price) for direction, price in unbooked.values_list("direction", "usd_price")} == {("in", None)}
    assert unbooked.filter(token__mint=POPCAT).exists()


def test_derived_rows_go_with_the_swaps_and_wallets_they_come_from(alice_wallet, bob_wallet, priced_tokens):
    # Their keys carry no database constraint (whales.models.DERIVED): deleting goes through Django.
    ingest_in_random_order(history(seed=5), seed=6)
    sell = Realization.objects.filter(wallet=alice_wallet).earliest("at").swap_id

    Swap.objects.filter(id=sell).delete()  # as reparse deletes a swap its parser no longer finds
    assert not Realization.objects.filter(swap_id=sell).exists()
    TrackedWallet.objects.filter(id=alice_wallet.id).delete()

    for model in (Realization, PositionCycle, Position):
        assert not model.objects.filter(wallet_id=alice_wallet.id).exists()
        assert model.objects.filter(wallet_id=bob_wallet.id).exists()


def test_a_wallet_with_no_trades_gets_empty_stats_and_no_positions(carol_wallet):
    summary = recompute_all([carol_wallet.id])

    assert (summary.wallets, summary.swaps, summary.positions, summary.realizations) == (1, 0, 0, 0)
    assert not Position.objects.exists()
    stats = WalletStats.objects.filter(wallet=carol_wallet)
    assert sorted(stats.values_list("window", "total_pnl", "swap_count", "win_rate")) == [
        ("24h", Decimal("0"), 0, None),
        ("30d", Decimal("0"), 0, None),
        ("7d", Decimal("0"), 0, None),
        ("all", Decimal("0"), 0, None),
    ]


def test_nothing_to_do_is_fine():
    summary = recompute_all([])

    assert (summary.wallets, summary.batches, summary.swaps) == (0, 0, 0)


# --- the command -------------------------------------------------------------------------------------


def test_the_command_rebuilds_one_wallet_and_says_what_it_did(alice_wallet, bob_wallet, priced_tokens):
    ingest_in_random_order(history(seed=9), seed=10)
    expected = stored_pnl()
    Position.objects.update(realized_pnl=Decimal("999"))
    out = StringIO()

    call_command("recompute_pnl", "--wallet", ALICE, stdout=out)

    assert set(Position.objects.filter(wallet=bob_wallet).values_list("realized_pnl", flat=True)) == {Decimal("999")}
    positions = [row for row in stored_pnl()["positions"] if row[0] == alice_wallet.id]
    assert positions == [row for row in expected["positions"] if row[0] == alice_wallet.id]
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("  1 of 1 wallets, ")
    swaps = Swap.objects.filter(wallet=alice_wallet).count()
    assert lines[-1].startswith(f"Recomputed P&L of 1 wallets from {swaps} swaps and ")
    assert " s (" in lines[-1] and "swaps/s; read " in lines[-1]


def test_the_command_rebuilds_every_wallet_by_default_even_from_nothing(alice_wallet, bob_wallet, priced_tokens):
    ingest_in_random_order(history(seed=11), seed=12)
    expected = stored_pnl()
    for model in (Position, PositionCycle, Realization, WalletStats):  # as after a bulk import of swaps
        model.objects.all().delete()

    call_command("recompute_pnl", stdout=StringIO())

    assert stored_pnl() == expected


def test_the_command_refuses_an_address_that_is_not_one():
    typo = f"{ALICE[:5]}0{ALICE[6:]}"
    with pytest.raises(CommandError, match=r"^--wallet '\w+': .* '0' \(character 6\), which is not a base58 character"):
        call_command("recompute_pnl", "--wallet", typo, stdout=StringIO())


def test_the_command_refuses_a_wallet_that_is_not_tracked(alice_wallet):
    with pytest.raises(CommandError, match=f"--wallet {CAROL}: not a tracked wallet"):
        call_command("recompute_pnl", "--wallet", ALICE, "--wallet", CAROL, stdout=StringIO())
