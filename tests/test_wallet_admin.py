"""The Django admin is where tracked wallets are managed: validation, CSV import/export, actions."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from providers.helius import HeliusClient
from tests.support.http import Reply
from whales.ingestion.sources import claim_due_wallets, sync_webhook
from whales.models import TrackedWallet

pytestmark = pytest.mark.django_db

WHALE = "Ezi9Bn5WAfbVHmWbVHuMCdDhgyZKWxRCGGcexx3EXV8L"
OTHER = "FCHTRYx6npkQCogtpZtEFLJeevAFGbDHhJyvqvT6F4kX"
THIRD = "DNfuF1L62WWyW3pNakVkyGGFzVVhj4Yr52jSmdTyeBHm"
INVALID_ADDRESSES = {
    "wrong length": ("Ezi9Bn5WAfbVHmWbVHuMCdDhgyZKWxRCGG", "decodes to"),
    "not base58": ("0zi9Bn5WAfbVHmWbVHuMCdDhgyZKWxRCGGcexx3EXV8L", "not a base58 character"),
    "empty": ("", "required"),
    "whitespace": (" " + WHALE, "whitespace"),
    "inner whitespace": ("Ezi9Bn5WAfbVHmWbVHuM CdDhgyZKWxRCGGcexx3EXV8L", "whitespace"),
}


def add_wallet(admin_client, address: str, **extra: str):
    data = {"address": address, "label": "whale", "tags": "sniper", "notes": "", "is_active": "on", **extra}
    return admin_client.post("/admin/whales/trackedwallet/add/", data)


@pytest.mark.parametrize("case", INVALID_ADDRESSES, ids=list(INVALID_ADDRESSES))
def test_the_admin_refuses_an_invalid_address_with_a_clear_message(admin_client, case):
    address, message = INVALID_ADDRESSES[case]

    response = add_wallet(admin_client, address)

    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors["address"]
    assert message in " ".join(errors)
    assert TrackedWallet.objects.count() == 0


def test_the_admin_adds_a_wallet_remembering_who_added_it_and_starts_its_backfill(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = add_wallet(admin_client, WHALE, tags="sniper,fund")

    assert response.status_code == 302
    wallet = TrackedWallet.objects.get()
    assert (wallet.address, wallet.tags, wallet.added_by) == (WHALE, ["sniper", "fund"], admin_user)
    assert len(callbacks) == 1  # backfill + webhook sync, queued only once the row is committed


def test_a_duplicate_address_is_refused(admin_client):
    TrackedWallet.objects.create(address=WHALE)

    response = add_wallet(admin_client, WHALE)

    assert "already exists" in " ".join(response.context["adminform"].form.errors["address"])


def import_csv(admin_client, text: str):
    upload = SimpleUploadedFile("wallets.csv", text.encode(), content_type="text/csv")
    return admin_client.post("/admin/whales/trackedwallet/import-csv/", {"file": upload})


def test_csv_import_reports_each_row_and_keeps_the_good_ones(admin_client, admin_user):
    TrackedWallet.objects.create(address=OTHER, label="old label", tags=["fund"])
    text = "\n".join(
        [
            "address,label,tags",
            f"{WHALE},Sniper one,sniper;degen",
            "not-an-address,Nope,",
            f"{WHALE},Sniper again,",
            f"{OTHER},New label,swing",
            f" {THIRD},Leading space,",
            ",Empty,",
        ]
    )

    response = import_csv(admin_client, text)

    outcomes = [(o.line, o.status) for o in response.context["outcomes"]]
    assert outcomes == [(2, "added"), (3, "error"), (4, "duplicate"), (5, "updated"), (6, "error"), (7, "error")]
    messages = [o.message for o in response.context["outcomes"]]
    assert "not a base58 character" in messages[1]
    assert "whitespace" in messages[4]
    assert "empty" in messages[5]
    added = TrackedWallet.objects.get(address=WHALE)
    assert (added.label, added.tags, added.added_by) == ("Sniper one", ["degen", "sniper"], admin_user)
    updated = TrackedWallet.objects.get(address=OTHER)
    assert (updated.label, updated.tags) == ("New label", ["fund", "swing"])
    assert TrackedWallet.objects.count() == 2
    html = response.content.decode()
    assert "1 wallet(s) added, 3 row(s) refused." in html


def test_csv_import_refuses_a_file_without_an_address_column(admin_client):
    response = import_csv(admin_client, "wallet,label\nabc,def\n")

    assert "at least &#x27;address&#x27;" in response.content.decode()
    assert TrackedWallet.objects.count() == 0


def test_csv_export_lists_the_selected_wallets_and_defuses_formulas(admin_client):
    TrackedWallet.objects.create(address=WHALE, label="=HYPERLINK(1)", tags=["sniper", "fund"])
    TrackedWallet.objects.create(address=OTHER, label="Calm", is_active=False)

    response = admin_client.post(
        "/admin/whales/trackedwallet/",
        {"action": "export_csv", "_selected_action": list(TrackedWallet.objects.values_list("id", flat=True))},
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["address", "label", "tags", "active", "last_swap_at"]
    assert sorted(rows[1:]) == sorted(
        [[WHALE, "'=HYPERLINK(1)", "sniper;fund", "yes", ""], [OTHER, "Calm", "", "no", ""]]
    )


def test_the_changelist_searches_by_label_and_filters_by_tag(admin_client):
    TrackedWallet.objects.create(address=WHALE, label="Sniper Sam", tags=["sniper"])
    TrackedWallet.objects.create(address=OTHER, label="Fund Fiona", tags=["fund"])

    by_label = admin_client.get("/admin/whales/trackedwallet/", {"q": "sam"})
    by_tag = admin_client.get("/admin/whales/trackedwallet/", {"tag": "fund"})

    assert [w.address for w in by_label.context["cl"].result_list] == [WHALE]
    assert [w.address for w in by_tag.context["cl"].result_list] == [OTHER]


def test_deactivating_from_the_admin_takes_wallets_out_of_polling(admin_client):
    wallet = TrackedWallet.objects.create(address=WHALE)

    admin_client.post("/admin/whales/trackedwallet/", {"action": "deactivate", "_selected_action": [wallet.id]})

    wallet.refresh_from_db()
    assert wallet.is_active is False
    assert claim_due_wallets() == []


@override_settings(HELIUS_WEBHOOK_SECRET="s3cret", HELIUS_WEBHOOK_URL="https://aura.example.com/hooks/helius/")
def test_the_webhook_sync_refuses_invalid_addresses_and_sends_the_rest(server):
    TrackedWallet.objects.create(address=WHALE)
    # Shaped like an address (44 base58 characters) but 33 bytes long: only the full check catches it.
    bad = TrackedWallet.objects.create(address="z" * 44)
    TrackedWallet.objects.create(address=OTHER, is_active=False)
    server.script(Reply(200, []), Reply(200, {"webhookID": "f3c1a2b4-0000-4000-8000-000000000001"}))

    with HeliusClient(server.url, "key", rate_per_second=0) as client:
        result = sync_webhook(client)

    created = server.requests[1]
    assert (created.method, created.path) == ("POST", "/v0/webhooks")
    assert created.body == {
        "webhookURL": "https://aura.example.com/hooks/helius/",
        "transactionTypes": ["ANY"],
        "accountAddresses": [WHALE],
        "webhookType": "enhanced",
        "authHeader": "s3cret",
    }
    assert result.addresses == 1
    assert result.refused == [("z" * 44, "The address decodes to 33 bytes; a Solana address is 32 bytes.")]
    bad.refresh_from_db()
    assert "not sent to the Helius webhook" in bad.last_error
