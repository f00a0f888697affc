"""One bad transaction never costs the good ones: cleaned at the edge, stored one by one when the batch
is refused, quarantined (kept raw, with the reason) when it cannot be stored, and the cursors move on."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import override_settings

from providers.birdeye import BirdeyeClient
from tests.builders import address, usdc_swap
from tests.support.helius import SECRET, helius_for, paged, post_webhook
from tests.support.http import Reply, ScriptedServer, Sleeps
from whales.ingestion.ingest import ingest, retry_quarantined
from whales.ingestion.sources import backfill_step, poll_wallet, start_backfill
from whales.market.metadata import refresh_token_metadata
from whales.models import ArrivedVia, BackfillState, Quarantined, RawTransaction, Swap, Token, TrackedWallet
from whales.sanitise import clean_json, clean_text, raw_text
from whales.wallets import import_wallets

pytestmark = pytest.mark.django_db

NOW = 1_760_000_000
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
MINT = address("quarantine token")


@pytest.fixture
def whale() -> TrackedWallet:
    return TrackedWallet.objects.create(address=address("quarantine whale"), label="Q whale")


def good(whale: TrackedWallet, n: int, timestamp: int = NOW) -> dict[str, Any]:
    return usdc_swap(whale.address, MINT, "buy", str(10 + n), str(20 + n), timestamp - n, seed=f"good {n}")


def poisoned(whale: TrackedWallet, how: str) -> dict[str, Any]:
    """A transaction the database cannot hold as it stands, in one of the ways seen from the chain."""
    tx = usdc_swap(whale.address, address(f"poison {how}"), "buy", "5", "7", NOW - 100, seed=f"poison {how}")
    if how == "nul description":
        tx["description"] = "bought \x00 EVIL"
    elif how == "nul source":
        tx["source"] = "JUP\x00ITER"
    elif how == "lone surrogate":
        tx["description"] = "bad \ud800 text"
        tx["events"] = {"note": {"\udfff key": "x"}}
    elif how == "timestamp 1e12":
        tx["timestamp"] = 10**12
    elif how == "timestamp 2^62":
        tx["timestamp"] = 2**62
    elif how == "60-character mint":
        long_mint = "A" * 60
        for entry in tx["accountData"]:
            for change in entry["tokenBalanceChanges"]:
                if change["mint"] != USDC:
                    change["mint"] = long_mint
        for transfer in tx["tokenTransfers"]:
            if transfer["mint"] != USDC:
                transfer["mint"] = long_mint
    elif how == "amount 1e39":
        for entry in tx["accountData"]:
            for change in entry["tokenBalanceChanges"]:
                if change["userAccount"] == whale.address and change["mint"] != USDC:
                    change["rawTokenAmount"]["tokenAmount"] = str(10**39)
    elif how == "slot beyond bigint":
        tx["slot"] = 2**63 + 5  # a u64 on chain; PostgreSQL's bigint stops at 2^63 - 1
    else:
        raise AssertionError(how)
    return tx


STORED_CLEAN = ["nul description", "nul source", "lone surrogate"]
QUARANTINED = ["timestamp 1e12", "timestamp 2^62", "60-character mint", "amount 1e39", "slot beyond bigint"]


@pytest.mark.parametrize("how", STORED_CLEAN)
@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
def test_a_webhook_batch_with_nul_or_surrogates_is_stored_cleaned_with_its_good_neighbours(client, whale, how):
    batch = [good(whale, 1), poisoned(whale, how), good(whale, 2)]

    response = post_webhook(client, batch)

    assert response.status_code == 200
    assert response.json()["new_swaps"] == 3
    assert Swap.objects.count() == 3
    stored = RawTransaction.objects.get(signature=batch[1]["signature"]).payload
    text = json.dumps(stored)
    assert "\\u0000" not in text and "\\ud800" not in text and "\\udfff" not in text
    assert Swap.objects.get(signature=batch[1]["signature"]).source == "JUPITER"
    assert not Quarantined.objects.exists()


@pytest.mark.parametrize("how", QUARANTINED)
@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
def test_a_webhook_batch_with_one_poisoned_transaction_stores_the_good_ones_and_quarantines_it(client, whale, how):
    bad = poisoned(whale, how)
    batch = [good(whale, 1), bad, good(whale, 2)]

    response = post_webhook(client, batch)

    assert response.status_code == 200
    body = response.json()
    assert (body["new_swaps"], body["quarantined"]) == (2, 1)
    assert set(Swap.objects.values_list("signature", flat=True)) == {batch[0]["signature"], batch[2]["signature"]}
    held = Quarantined.objects.get()
    assert (held.kind, held.key, held.arrived_via) == (Quarantined.Kind.TRANSACTION, bad["signature"], "webhook")
    assert held.reason
    assert json.loads(held.raw) == bad  # kept as it came, every character
    assert not RawTransaction.objects.filter(signature=bad["signature"]).exists()

    again = post_webhook(client, batch)  # Helius retrying the same batch: nothing doubles
    assert again.status_code == 200 and again.json()["new_swaps"] == 0
    held.refresh_from_db()
    assert Quarantined.objects.count() == 1 and held.times_seen == 2


@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
def test_the_reasons_say_what_was_wrong(client, whale):
    post_webhook(client, [poisoned(whale, how) for how in QUARANTINED])

    reasons = dict(Quarantined.objects.values_list("key", "reason"))
    by_how = {how: reasons[poisoned(whale, how)["signature"]] for how in QUARANTINED}
    assert "timestamp" in by_how["timestamp 1e12"] and "timestamp" in by_how["timestamp 2^62"]
    assert "mint" in by_how["60-character mint"]
    assert "amount" in by_how["amount 1e39"]
    assert "database" in by_how["slot beyond bigint"]


def test_a_poll_page_with_a_poisoned_transaction_moves_the_cursor_and_records_no_error(whale, server):
    page = [good(whale, 1), poisoned(whale, "amount 1e39"), poisoned(whale, "nul source"), good(whale, 3)]
    whale.newest_signature = "1" * 64  # an older cursor the poll walks down to
    whale.save()
    server.responder = paged(page)

    assert poll_wallet(whale, helius_for(server)) == 3

    whale.refresh_from_db()
    assert whale.newest_signature == page[0]["signature"]
    assert whale.last_error == "" and whale.last_polled_at is not None
    assert Quarantined.objects.get().key == page[1]["signature"]
    assert Quarantined.objects.get().arrived_via == ArrivedVia.POLL

    assert poll_wallet(whale, helius_for(server)) == 0  # the next poll is a no-op, not an error
    whale.refresh_from_db()
    assert whale.last_error == ""


def test_a_backfill_page_with_a_poisoned_transaction_goes_on_past_it(whale, server):
    page = [good(whale, n) for n in range(3)]
    page.insert(1, poisoned(whale, "timestamp 1e12"))
    start_backfill(whale, days=365 * 20)
    whale.refresh_from_db()
    server.responder = paged(page)

    assert backfill_step(whale, helius_for(server), max_pages=5) is True

    whale.refresh_from_db()
    assert whale.backfill_state == BackfillState.DONE
    assert Swap.objects.count() == 3
    assert Quarantined.objects.get().arrived_via == ArrivedVia.BACKFILL


def test_a_metadata_batch_with_a_nul_symbol_names_every_token_and_finishes(server: ScriptedServer):
    mints = [address(f"meta {n}") for n in range(3)]
    for mint in mints:
        Token.objects.create(mint=mint)
    symbols = {mints[0]: "GOOD", mints[1]: "EV\x00IL\ud800", mints[2]: "FINE"}

    def overview(request):
        mint = request.param("address")
        return Reply(
            200,
            {"success": True, "data": {"address": mint, "symbol": symbols[mint], "name": "n\x00ame", "decimals": 6}},
        )

    server.responder = overview
    client = BirdeyeClient(server.url, "key", rate_per_second=0, sleep=Sleeps(), max_attempts=1)

    assert refresh_token_metadata(mints, client) == 3

    named = dict(Token.objects.filter(mint__in=mints).values_list("mint", "symbol"))
    assert named == {mints[0]: "GOOD", mints[1]: "EVIL\ufffd", mints[2]: "FINE"}
    assert not Token.objects.filter(mint__in=mints, metadata_updated_at=None).exists()  # none asked again


def test_a_quarantined_transaction_can_be_tried_again_once_it_is_readable(whale, client, django_user_model):
    bad = poisoned(whale, "timestamp 1e12")
    ingest([bad], ArrivedVia.WEBHOOK)
    held = Quarantined.objects.get()

    assert retry_quarantined([held.id]) == (0, 1)  # still unreadable: kept
    fixed = copy.deepcopy(bad)
    fixed["timestamp"] = NOW
    Quarantined.objects.filter(id=held.id).update(raw=json.dumps(fixed))
    assert retry_quarantined([held.id]) == (1, 0)
    assert Swap.objects.filter(signature=bad["signature"]).exists()
    assert not Quarantined.objects.exists()


def test_the_admin_tries_a_quarantined_transaction_again_and_says_what_happened(client, whale, django_user_model):
    ingest([poisoned(whale, "amount 1e39")], ArrivedVia.WEBHOOK)
    held = Quarantined.objects.get()
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True, is_superuser=True)
    client.force_login(staff)

    response = client.post(
        "/admin/whales/quarantined/", {"action": "try_again", "_selected_action": [held.id]}, follow=True
    )

    assert "0 stored; 1 still cannot be stored and stay here." in response.content.decode()
    assert Quarantined.objects.get().times_seen == 2


def test_staff_see_quarantined_transactions_on_the_status_page_and_in_the_admin(client, whale, django_user_model):
    ingest([poisoned(whale, "amount 1e39")], ArrivedVia.WEBHOOK)
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True, is_superuser=True)
    client.force_login(staff)

    status = client.get("/status/").content.decode()
    assert "Quarantined" in status and "amount" in status
    listing = client.get("/admin/whales/quarantined/").content.decode()
    assert poisoned(whale, "amount 1e39")["signature"][:20] in listing
    held = Quarantined.objects.get()
    detail = client.get(f"/admin/whales/quarantined/{held.id}/change/")
    assert detail.status_code == 200 and "amount" in detail.content.decode()


def test_a_csv_import_with_nul_in_a_label_or_tag_imports_the_wallet_cleaned():
    outcomes = import_wallets(
        [(2, {"address": address("csv whale"), "label": "Big\x00 one", "tags": "a\x00b;c"})]
    )

    assert [o.status for o in outcomes] == ["added"]
    wallet = TrackedWallet.objects.get(address=address("csv whale"))
    assert (wallet.label, wallet.tags) == ("Big one", ["ab", "c"])


# --- the cleaning itself (pure) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("plain", "plain"),
        ("a\x00b\x00", "ab"),
        ("lone \ud83d high", "lone \ufffd high"),
        ("lone \ude00 low", "lone \ufffd low"),
        ("pair 😀 kept", "pair 😀 kept"),
    ],
)
def test_text_loses_nul_and_lone_surrogates_only(text, cleaned):
    assert clean_text(text) == cleaned


def test_clean_json_returns_the_same_object_when_nothing_needs_cleaning_and_a_copy_otherwise():
    tidy = {"a": [1, "two", {"b": None}], "c": 3.5}
    assert clean_json(tidy) is tidy
    dirty = {"a\x00": ["x\x00", {"b": "\ud800"}], "n": 1}
    assert clean_json(dirty) == {"a": ["x", {"b": "\ufffd"}], "n": 1}
    assert dirty == {"a\x00": ["x\x00", {"b": "\ud800"}], "n": 1}  # the original is untouched


def test_raw_text_is_ascii_and_gives_back_exactly_what_came():
    value = {"description": "nul \x00 and \ud800", "amount": 10**39}
    text = raw_text(value)
    assert text.isascii() and "\x00" not in text
    assert json.loads(text) == value
