"""The market simulator's world without HTTP: seeded determinism, prices, history, and the main
cross-check between the simulator and the app's parser (every generated swap must parse to the
swap the simulator meant)."""

from __future__ import annotations

import collections
import json
import math
import random
import statistics
import time
from decimal import Decimal
from pathlib import Path

import pytest

from simulator.base58 import b58encode
from simulator.market import (
    SHAPES,
    STYLES,
    USDC_MINT,
    WSOL_MINT,
    Market,
    NothingToSell,
    PricePath,
    SimTransaction,
    demo_wallets,
)
from simulator.payloads import PUMP_FUN_FEE_RECIPIENT, enhanced_transaction
from whales.ingestion.parsing import parse_swaps
from whales.solana import b58decode, validate_solana_address

NOW = 1_760_000_000
FIXTURES = Path(__file__).parent / "fixtures" / "helius"


@pytest.fixture(scope="module")
def market() -> Market:
    """A week of 80 whales (~6,000 transactions), plus forced trades of every shape and side."""
    world = Market(seed=7, wallet_count=80, token_count=30, history_days=6, history_txs=6000, now=NOW)
    rng = random.Random(1)
    clock = NOW
    for _ in range(10):
        for shape in SHAPES:
            wallet = rng.choice(world.wallets).address
            clock += 7
            world.force_trade(clock, wallet=wallet, shape=shape, side="buy")
            clock += 7
            world.force_trade(clock, wallet=wallet, shape=shape, side="sell")
            clock += 1
            world.force_trade(clock, wallet=wallet, shape=shape, failed=True)
    return world


@pytest.fixture(scope="module")
def month() -> tuple[Market, float]:
    """The default market (200 whales, 30 days) and the CPU seconds its history took.

    CPU rather than wall time: the machine is shared, and a busy neighbour doubles wall time.
    """
    started = time.process_time()
    world = Market(now=NOW)
    return world, time.process_time() - started


def variant(tx: SimTransaction) -> tuple:
    return (tx.kind, tx.shape, tx.side, tx.quote_mint, tx.hops, tx.hop_via_wallet, tx.extra_fee_kind,
            tx.new_token_account, tx.close_token_account)


# --- wallets ------------------------------------------------------------------------------------


def test_demo_wallets_are_the_same_for_the_same_seed_and_differ_across_seeds() -> None:
    first, again, other = demo_wallets(5, 200), demo_wallets(5, 200), demo_wallets(6, 200)

    assert first == again
    assert len(first) == 200
    assert not {w.address for w in first} & {w.address for w in other}


def test_demo_wallets_are_labelled_whales_with_valid_addresses() -> None:
    wallets = demo_wallets(5, 200)

    assert len({w.address for w in wallets}) == 200
    for index, wallet in enumerate(wallets, start=1):
        assert validate_solana_address(wallet.address) == wallet.address
        assert len(b58decode(wallet.address)) == 32
        assert wallet.tags[0] in STYLES
        assert wallet.label == f"Whale {index:03d} · {wallet.tags[0]}"
        assert 0.0 <= wallet.skill <= 1.0
    assert {w.tags[0] for w in wallets} == set(STYLES)
    assert min(w.skill for w in wallets) < 0.15 and max(w.skill for w in wallets) > 0.85


def test_a_market_trades_with_exactly_the_demo_wallets_of_its_seed() -> None:
    world = Market(seed=9, wallet_count=25, token_count=10, history_days=1, history_txs=300, now=NOW)

    assert world.wallets == demo_wallets(9, 25)
    assert {tx.wallet for tx in world.transactions} <= {w.address for w in world.wallets}


# --- determinism ----------------------------------------------------------------------------------


def test_the_same_seed_and_clock_give_the_same_history() -> None:
    def history(seed: int) -> list[tuple]:
        world = Market(seed=seed, wallet_count=30, token_count=12, history_days=2, history_txs=1500, now=NOW)
        return [(tx.signature, tx.slot, tx.timestamp, tx.wallet, tx.intent) for tx in world.transactions]

    first, again, other = history(3), history(3), history(4)

    assert first == again
    assert len(first) > 1000
    assert not {row[0] for row in first} & {row[0] for row in other}


def test_a_payload_is_the_same_every_time_it_is_built(market: Market) -> None:
    for tx in market.transactions[:300]:
        assert enhanced_transaction(tx, market) == enhanced_transaction(tx, market)


def test_a_price_path_is_the_same_however_far_ahead_it_was_extended() -> None:
    stepwise = PricePath(random.Random("path"), "pump", 0.0001, rug_minute=3000)
    at_once = PricePath(random.Random("path"), "pump", 0.0001, rug_minute=3000)
    for minute in range(0, 10 * 1440, 500):
        stepwise.ensure(minute)
    at_once.ensure(10 * 1440)

    assert [stepwise.at(m) for m in range(10 * 1440)] == [at_once.at(m) for m in range(10 * 1440)]


# --- the parser cross-check ------------------------------------------------------------------------


def test_every_generated_swap_parses_to_the_swap_the_simulator_meant(market: Market) -> None:
    """Each transaction, as JSON on the wire, read by whales.ingestion.parsing for every whale it touches."""
    whales = set(market.wallets_by_address)
    mismatches = []
    swaps_checked = 0
    for tx in market.transactions:
        payload = json.loads(json.dumps(enhanced_transaction(tx, market)))
        for address in sorted(set(tx.involved) & whales):
            intent = tx.intent if address == tx.wallet else None
            got = [(s.side, s.token_mint, s.token_amount, s.quote_mint, s.quote_amount)
                   for s in parse_swaps(payload, address)]
            want = [] if intent is None else [
                (intent.side, intent.token_mint, intent.token_amount, intent.quote_mint, intent.quote_amount)
            ]
            if got != want:
                mismatches.append((variant(tx), address == tx.wallet, got, want))
            swaps_checked += intent is not None

    assert mismatches == []
    assert swaps_checked >= 3000


def test_the_cross_check_covers_every_shape_and_every_trap(market: Market) -> None:
    """Without this, the cross-check above could pass by generating only easy transactions."""
    seen = collections.Counter(variant(tx) for tx in market.transactions)

    def count(**facts: object) -> int:
        fields = ("kind", "shape", "side", "quote_mint", "hops", "hop_via_wallet", "extra_fee_kind",
                  "new_token_account", "close_token_account")
        return sum(n for key, n in seen.items() if all(key[fields.index(f)] == v for f, v in facts.items()))

    for shape in SHAPES:
        for side in ("buy", "sell"):
            assert count(kind="swap", shape=shape, side=side) >= 20, (shape, side)
        assert count(kind="failed", shape=shape) >= 5, shape
    assert count(kind="swap", shape="jupiter", quote_mint=USDC_MINT, side="buy") >= 20
    assert count(kind="swap", shape="jupiter", quote_mint=USDC_MINT, side="sell", extra_fee_kind="platform") >= 5
    assert count(kind="swap", shape="jupiter", quote_mint=WSOL_MINT, side="sell", extra_fee_kind="platform") >= 5
    assert count(kind="swap", shape="jupiter", hops=2, hop_via_wallet=False) >= 20
    assert count(kind="swap", shape="jupiter", hops=2, hop_via_wallet=True) >= 10
    assert count(kind="swap", shape="pumpswap", extra_fee_kind="bot", side="buy") >= 10
    assert count(kind="swap", shape="pumpswap", extra_fee_kind="bot", side="sell") >= 10
    assert count(kind="swap", new_token_account=True) >= 100
    assert count(kind="swap", close_token_account=True) >= 100
    for kind in ("sol_transfer", "spl_transfer"):
        for side in ("in", "out"):
            assert count(kind=kind, side=side) >= 20, (kind, side)
    between_whales = [tx for tx in market.transactions if tx.counterparty in market.wallets_by_address]
    assert len(between_whales) >= 20


def test_payloads_keep_the_helius_types_and_key_order(market: Market) -> None:
    real = json.loads((FIXTURES / "helius_swap_RAYDIUM_sol_to_pump_token.json").read_text())[0]
    for tx in market.transactions:
        payload = json.loads(json.dumps(enhanced_transaction(tx, market)))

        assert list(payload) == list(real)
        assert len(b58decode(payload["signature"])) == 64
        assert 5000 <= payload["fee"] <= 250_000
        assert payload["feePayer"] == tx.fee_payer
        for transfer in payload["tokenTransfers"]:
            assert list(transfer) == list(real["tokenTransfers"][0])
            assert type(transfer["tokenAmount"]) in (int, float) and transfer["tokenAmount"] > 0
        for entry in payload["accountData"]:
            assert type(entry["nativeBalanceChange"]) is int
            for change in entry["tokenBalanceChanges"]:
                assert list(change) == list(real["accountData"][5]["tokenBalanceChanges"][0])
                assert isinstance(change["rawTokenAmount"]["tokenAmount"], str)
                assert int(change["rawTokenAmount"]["tokenAmount"]) != 0
        for transfer in payload["nativeTransfers"]:
            assert type(transfer["amount"]) is int and transfer["amount"] > 0
        swap = payload["events"].get("swap")
        if swap is not None:
            assert list(swap) == list(real["events"]["swap"])
            for leg in (swap["nativeInput"], swap["nativeOutput"], *swap["nativeFees"]):
                assert leg is None or isinstance(leg["amount"], str)
        # Lamports are conserved: every SOL movement has both ends in accountData (fee aside).
        assert sum(e["nativeBalanceChange"] for e in payload["accountData"]) == -payload["fee"]


def test_pumpfun_and_pumpswap_trades_look_unparsed_as_helius_sends_them(market: Market) -> None:
    pumpfun = [tx for tx in market.transactions if tx.kind == "swap" and tx.shape == "pumpfun"]
    pumpswap = [tx for tx in market.transactions if tx.kind == "swap" and tx.shape == "pumpswap"]
    for tx in pumpfun:
        payload = enhanced_transaction(tx, market)
        assert (payload["type"], payload["source"], payload["events"], payload["description"]) == (
            "TRANSFER", "SYSTEM_PROGRAM", {}, "")
        fee = [t for t in payload["nativeTransfers"] if t["toUserAccount"] == PUMP_FUN_FEE_RECIPIENT]
        fee_account = [e for e in payload["accountData"] if e["account"] == PUMP_FUN_FEE_RECIPIENT]
        assert fee_account[0]["nativeBalanceChange"] == tx.quote_raw // 100
        assert len(fee) == (1 if tx.side == "buy" else 0)
    for tx in pumpswap:
        payload = enhanced_transaction(tx, market)
        assert (payload["type"], payload["source"], payload["events"], payload["description"]) == (
            "SWAP", "PUMP_AMM", {}, "")
        if tx.side == "sell":
            temp_refunds = [t for t in payload["nativeTransfers"] if t["toUserAccount"] == tx.wallet
                            and t["amount"] == tx.quote_raw + 2_039_280]
            assert len(temp_refunds) == 1


def test_failed_transactions_carry_an_error_and_move_only_the_fee(market: Market) -> None:
    failed = [tx for tx in market.transactions if tx.kind == "failed"]
    assert len(failed) >= 40
    for tx in failed:
        payload = enhanced_transaction(tx, market)
        assert payload["transactionError"]
        assert payload["tokenTransfers"] == [] and payload["nativeTransfers"] == []
        moved = {e["account"]: e["nativeBalanceChange"] for e in payload["accountData"] if e["nativeBalanceChange"]}
        assert moved == {tx.wallet: -tx.network_fee}


def test_hostile_token_metadata_reaches_the_payloads(market: Market) -> None:
    hostile = [t for t in market.tokens if t.hostile]
    symbols = {t.symbol for t in hostile}

    assert "<script>alert(1)</script>" in symbols
    assert any("\u202e" in s for s in symbols)
    assert any(len(t.name) > 200 for t in hostile)
    assert any(t.name == '"><img src=x onerror=alert(1)>' for t in hostile)
    described = {enhanced_transaction(tx, market)["description"] for tx in market.transactions
                 if tx.token_mint in {t.mint for t in hostile} and tx.kind in ("swap", "spl_transfer")}
    assert any("<script>alert(1)</script>" in text for text in described)


# --- prices and history ---------------------------------------------------------------------------------


def test_prices_stay_positive_and_finite(month: tuple[Market, float]) -> None:
    world, _ = month
    for mint, path in world.paths.items():
        prices = [path.at(m) for m in range(world.history_minutes)]
        assert all(p > 0 and math.isfinite(p) for p in prices), mint
    sol = [world.paths[WSOL_MINT].at(m) for m in range(world.history_minutes)]
    assert 75 < min(sol) and max(sol) < 300


def test_tokens_pump_and_rug_within_the_history(month: tuple[Market, float]) -> None:
    world, _ = month
    rugs = pumps = 0
    for token in world.tokens:
        path = world.paths[token.mint]
        for event in world.price_events(token.mint):
            before, peak = path.at(event.start_minute - 1), path.at(event.peak_minute)
            if event.kind == "rug" and peak < before * 0.1:
                rugs += 1
            if event.kind == "pump" and peak > before * 1.8 and event.peak_minute - event.start_minute <= 60:
                pumps += 1

    assert rugs >= 3
    assert pumps >= 20


def test_the_history_spans_the_requested_days_with_tens_of_thousands_of_transactions(
    month: tuple[Market, float],
) -> None:
    world, seconds = month
    times = [tx.timestamp for tx in world.transactions]

    assert 20_000 <= len(world.transactions) <= 40_000
    assert NOW - 30 * 86_400 <= min(times) < NOW - 30 * 86_400 + 3600
    assert NOW - 3600 < max(times) < NOW
    assert times == sorted(times)
    slots = [tx.slot for tx in world.transactions]
    assert slots == sorted(slots)
    assert len({tx.signature for tx in world.transactions}) == len(world.transactions)
    assert seconds < 10, f"history generation took {seconds:.1f} CPU seconds"
    per_wallet = collections.Counter(tx.wallet for tx in world.transactions)
    assert len(per_wallet) == 200 and min(per_wallet.values()) >= 10


def test_skilled_whales_win_more_often_than_poor_ones(month: tuple[Market, float]) -> None:
    """FIFO win rate per whale (in USD, SOL legs valued at the time), by skill quartile."""
    world, _ = month
    lots: dict[tuple[str, str], collections.deque] = collections.defaultdict(collections.deque)
    closed, won = collections.Counter(), collections.Counter()
    for tx in world.transactions:
        intent = tx.intent
        if intent is None:
            continue
        usd = intent.quote_amount * (Decimal(world.usd_price(WSOL_MINT, tx.timestamp))
                                     if intent.quote_mint == WSOL_MINT else 1)
        key = (tx.wallet, intent.token_mint)
        if intent.side == "buy":
            lots[key].append([intent.token_amount, usd / intent.token_amount])
            continue
        left, cost = intent.token_amount, Decimal(0)
        while left and lots[key]:
            lot = lots[key][0]
            taken = min(lot[0], left)
            cost, left, lot[0] = cost + taken * lot[1], left - taken, lot[0] - taken
            if not lot[0]:
                lots[key].popleft()
        if left < intent.token_amount:
            closed[tx.wallet] += 1
            won[tx.wallet] += (intent.token_amount - left) * usd / intent.token_amount > cost
    rates = sorted((w.skill, won[w.address] / closed[w.address]) for w in world.wallets if closed[w.address] >= 5)
    quarter = len(rates) // 4
    poor = statistics.mean(rate for _, rate in rates[:quarter])
    skilled = statistics.mean(rate for _, rate in rates[-quarter:])

    assert len(rates) >= 150
    assert skilled - poor > 0.3, (poor, skilled)


# --- live trading ---------------------------------------------------------------------------------------


def test_live_ticks_append_newer_transactions() -> None:
    world = Market(seed=2, wallet_count=20, token_count=10, history_days=1, history_txs=400, now=NOW)
    before = len(world.transactions)
    made = [tx for second in range(1, 61) for tx in world.live_tick(NOW + second)]

    assert len(made) >= 60
    assert world.transactions[before:] == made
    assert all(tx.live and NOW < tx.timestamp <= NOW + 60 for tx in made)


def test_a_forced_trade_has_the_asked_wallet_shape_and_side() -> None:
    world = Market(seed=2, wallet_count=20, token_count=10, history_days=1, history_txs=400, now=NOW)
    whale = world.wallets[3].address
    for shape in SHAPES:
        bought = world.force_trade(NOW + 1, wallet=whale, shape=shape, side="buy")
        sold = world.force_trade(NOW + 2, wallet=whale, shape=shape, side="sell")
        assert (bought.wallet, bought.shape, bought.side, bought.kind) == (whale, shape, "buy", "swap")
        assert (sold.wallet, sold.shape, sold.side, sold.kind) == (whale, shape, "sell", "swap")


def test_a_forced_sell_of_a_wallet_holding_nothing_is_refused() -> None:
    world = Market(seed=2, wallet_count=20, token_count=10, history_days=1, history_txs=400, now=NOW)
    stranger = world.wallets[0].address
    world.holdings[stranger].clear()

    with pytest.raises(NothingToSell):
        world.force_trade(NOW + 1, wallet=stranger, side="sell")


def test_base58_encoding_round_trips_through_the_apps_decoder() -> None:
    rng = random.Random(0)
    for size in (0, 1, 31, 32, 64):
        for _ in range(200):
            data = bytes(rng.randrange(2) * rng.randrange(256) for _ in range(size))
            assert b58decode(b58encode(data)) == data
