"""The API's writes, each scoped to the requesting user: alice owns notes, devices and follows, bob has
his own, carol must be refused — reading, changing or deleting another's is a 404, as if it did not
exist. Staff endpoints (tracked wallets) are 403 for everyone else, and every endpoint is 401 for
nobody signed in."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from portfolios.models import Device, Follow, WalletNote
from tests.builders import address
from whales.models import BackfillState, TrackedWallet

pytestmark = pytest.mark.django_db


def phone_of(user) -> APIClient:
    """A client signed in as a phone is: `Authorization: Bearer <JWT access token>`, from an address of its own."""
    octets = uuid.uuid4().bytes[:3]
    client = APIClient(REMOTE_ADDR=f"10.{octets[0]}.{octets[1]}.{octets[2]}")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("sam", password="pw-for-sam-1", is_staff=True)


@pytest.fixture
def whale():
    return TrackedWallet.objects.create(address=address("whale"), label="Whale")


@pytest.fixture
def anonymous():
    octets = uuid.uuid4().bytes[:3]
    return APIClient(REMOTE_ADDR=f"10.{octets[0]}.{octets[1]}.{octets[2]}")


# --- notes ---------------------------------------------------------------------------------------------


def test_alice_writes_a_private_note_with_labels_and_reads_it_back(alice, whale):
    api = phone_of(alice)

    created = api.post(
        "/api/v1/notes/",
        {"address": whale.address, "text": "buys <b>early</b>", "labels": ["memes", " early ", "memes", ""]},
        format="json",
    )

    assert created.status_code == 201
    assert created.json()["text"] == "buys <b>early</b>" and created.json()["labels"] == ["early", "memes"]
    read = api.get(f"/api/v1/notes/{whale.address}/").json()
    assert {key: read[key] for key in ("address", "wallet_label", "text", "labels")} == {
        "address": whale.address,
        "wallet_label": "Whale",
        "text": "buys <b>early</b>",
        "labels": ["early", "memes"],
    }
    changed = api.patch(f"/api/v1/notes/{whale.address}/", {"labels": ["sold"]}, format="json")
    assert changed.status_code == 200 and changed.json()["text"] == "buys <b>early</b>"
    assert WalletNote.objects.get(user=alice).labels == ["sold"]
    again = api.post("/api/v1/notes/", {"address": whale.address, "text": "v2"}, format="json")
    assert again.status_code == 200 and again.json()["labels"] == ["sold"]
    assert api.delete(f"/api/v1/notes/{whale.address}/").status_code == 204
    assert not WalletNote.objects.exists()


def test_nobody_reads_changes_or_deletes_anothers_note(alice, bob, carol, whale):
    phone_of(alice).post("/api/v1/notes/", {"address": whale.address, "text": "alice's secret"}, format="json")
    phone_of(bob).post("/api/v1/notes/", {"address": whale.address, "text": "bob's own"}, format="json")
    api = phone_of(carol)
    url = f"/api/v1/notes/{whale.address}/"

    assert api.get("/api/v1/notes/").json()["results"] == []
    assert api.get(url).status_code == 404
    assert api.patch(url, {"text": "carol was here"}, format="json").status_code == 404
    assert api.put(url, {"text": "carol was here"}, format="json").status_code == 404
    assert api.delete(url).status_code == 404
    assert dict(WalletNote.objects.values_list("user__username", "text")) == {
        "alice": "alice's secret",
        "bob": "bob's own",
    }
    assert [note["text"] for note in phone_of(bob).get("/api/v1/notes/").json()["results"]] == ["bob's own"]


def test_a_note_on_an_untracked_or_malformed_address_is_refused(alice):
    api = phone_of(alice)

    assert api.post("/api/v1/notes/", {"address": address("nobody")}, format="json").status_code == 404
    refused = api.post("/api/v1/notes/", {"address": "not an address"}, format="json")
    assert refused.status_code == 400 and "address" in refused.json()
    surrogate = api.generic(
        "POST", "/api/v1/notes/", f'{{"address": "{address("x")}", "text": "\\ud800"}}', "application/json"
    )
    assert surrogate.status_code == 400 and surrogate.json()["text"] == [
        "Contains a lone UTF-16 surrogate, which is no character."
    ]
    assert api.post("/api/v1/notes/", {"address": address("x"), "labels": ["x" * 41]}, format="json").status_code == 400
    assert not WalletNote.objects.exists()


# --- devices -------------------------------------------------------------------------------------------


def test_alice_registers_a_device_whose_push_token_is_never_shown_back(alice):
    api = phone_of(alice)

    created = api.post(
        "/api/v1/devices/", {"platform": "ios", "push_token": "apns-token-0123456789", "name": "iPhone"}, format="json"
    )

    assert created.status_code == 201
    body = created.json()
    assert "push_token" not in body and body["push_token_ending"] == "456789"
    assert body["platform"] == "ios" and body["name"] == "iPhone"
    assert Device.objects.get(id=body["id"]).push_token == "apns-token-0123456789"
    renamed = api.patch(f"/api/v1/devices/{body['id']}/", {"name": "Work phone"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Work phone"
    assert api.post("/api/v1/devices/", {"platform": "fax", "push_token": "t"}, format="json").status_code == 400


def test_nobody_reads_renames_or_unregisters_anothers_device(alice, carol):
    device = phone_of(alice).post("/api/v1/devices/", {"platform": "android", "push_token": "fcm-1"}, format="json")
    url = f"/api/v1/devices/{device.json()['id']}/"
    api = phone_of(carol)

    assert api.get("/api/v1/devices/").json()["results"] == []
    assert api.get(url).status_code == 404
    assert api.patch(url, {"name": "mine now"}, format="json").status_code == 404
    assert api.delete(url).status_code == 404
    assert Device.objects.get().user == alice and Device.objects.get().name == ""


def test_a_push_token_registered_again_by_another_user_moves_to_them(alice, bob):
    phone_of(alice).post("/api/v1/devices/", {"platform": "ios", "push_token": "shared-install"}, format="json")

    again = phone_of(bob).post("/api/v1/devices/", {"platform": "ios", "push_token": "shared-install"}, format="json")

    assert again.status_code == 200
    assert Device.objects.get().user == bob  # the phone is signed in as bob now: alice's pushes stop
    assert phone_of(alice).get("/api/v1/devices/").json()["results"] == []


def test_alice_unregisters_her_device(alice):
    api = phone_of(alice)
    device = api.post("/api/v1/devices/", {"platform": "ios", "push_token": "t-1"}, format="json").json()

    assert api.delete(f"/api/v1/devices/{device['id']}/").status_code == 204
    assert not Device.objects.exists()


# --- follows -------------------------------------------------------------------------------------------


def test_nobody_sees_or_removes_anothers_follow(alice, carol, whale):
    phone_of(alice).post("/api/v1/follows/", {"address": whale.address}, format="json")
    api = phone_of(carol)

    assert api.get("/api/v1/follows/").json()["results"] == []
    assert api.delete(f"/api/v1/follows/{whale.address}/").status_code == 204  # carol's own (absent) follow
    assert Follow.objects.filter(user=alice, wallet=whale).exists()


# --- staff: tracked wallets ----------------------------------------------------------------------------

STAFF_CALLS = [
    ("get", "/api/v1/admin/wallets/", None),
    ("post", "/api/v1/admin/wallets/", {"address": address("new whale")}),
    ("post", "/api/v1/admin/wallets/import/", {"wallets": [{"address": address("imported")}]}),
    ("post", "/api/v1/admin/wallets/{whale}/activate/", None),
    ("post", "/api/v1/admin/wallets/{whale}/deactivate/", None),
    ("post", "/api/v1/admin/wallets/{whale}/backfill/", None),
]


@pytest.mark.parametrize("method,url,body", STAFF_CALLS)
def test_staff_endpoints_refuse_other_users_403_and_nobody_signed_in_401(carol, whale, anonymous, method, url, body):
    url = url.format(whale=whale.address)

    refused = getattr(phone_of(carol), method)(url, body, format="json")
    unsigned = getattr(anonymous, method)(url, body, format="json")

    assert refused.status_code == 403
    assert unsigned.status_code == 401
    assert list(TrackedWallet.objects.values_list("address", "is_active", "backfill_state")) == [
        (whale.address, True, BackfillState.PENDING)
    ]


def test_staff_track_a_wallet(staff):
    created = phone_of(staff).post(
        "/api/v1/admin/wallets/", {"address": address("new whale"), "label": "New", "tags": ["a", "b"]}, format="json"
    )

    assert created.status_code == 201
    wallet = TrackedWallet.objects.get(address=address("new whale"))
    assert (wallet.label, wallet.tags, wallet.added_by) == ("New", ["a", "b"], staff)
    assert created.json()["address"] == wallet.address and created.json()["is_active"] is True


def test_staff_import_json_rows_with_an_outcome_per_row(staff, whale):
    rows = [
        {"address": address("one"), "label": "One"},
        {"address": "0OIl-not-base58"},
        {"address": address("one")},
        {"address": whale.address, "tags": ["renamed"]},
    ]

    response = phone_of(staff).post("/api/v1/admin/wallets/import/", {"wallets": rows}, format="json")

    assert response.status_code == 200
    result = response.json()
    assert (result["added"], result["updated"], result["duplicates"], result["errors"]) == (1, 1, 1, 1)
    assert [(row["line"], row["status"]) for row in result["rows"]] == [
        (1, "added"),
        (2, "error"),
        (3, "duplicate"),
        (4, "updated"),
    ]
    assert result["rows"][1]["message"]
    assert set(TrackedWallet.objects.values_list("address", flat=True)) == {whale.address, address("one")}
    assert TrackedWallet.objects.get(address=whale.address).tags == ["renamed"]


def test_staff_import_a_csv_file_or_body(staff):
    csv = f"address,label,tags\n{address('csv one')},One,memes;early\nnot-an-address,Bad,\n"
    api = phone_of(staff)

    uploaded = api.post("/api/v1/admin/wallets/import/", {"file": _upload(csv)}, format="multipart")
    as_body = api.generic("POST", "/api/v1/admin/wallets/import/", csv.replace("csv one", "x"), "text/csv")

    assert uploaded.status_code == 200
    assert [(row["line"], row["status"]) for row in uploaded.json()["rows"]] == [(2, "added"), (3, "error")]
    assert TrackedWallet.objects.get(address=address("csv one")).tags == ["early", "memes"]
    assert as_body.status_code == 200 and as_body.json()["updated"] == 1
    no_header = api.generic("POST", "/api/v1/admin/wallets/import/", "just,text\n", "text/csv")
    assert no_header.status_code == 400 and "address" in no_header.json()["file"][0]
    empty = api.post("/api/v1/admin/wallets/import/", {}, format="multipart")
    assert empty.status_code == 400 and "file" in empty.json()


def _upload(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("wallets.csv", text.encode(), content_type="text/csv")


def test_staff_deactivate_activate_and_backfill_again(staff, whale):
    api = phone_of(staff)

    off = api.post(f"/api/v1/admin/wallets/{whale.address}/deactivate/")
    refused = api.post(f"/api/v1/admin/wallets/{whale.address}/backfill/")
    on = api.post(f"/api/v1/admin/wallets/{whale.address}/activate/")
    backfill = api.post(f"/api/v1/admin/wallets/{whale.address}/backfill/")

    assert off.status_code == 200 and off.json()["is_active"] is False
    assert refused.status_code == 409
    assert on.status_code == 200 and on.json()["is_active"] is True
    assert backfill.status_code == 202 and backfill.json()["backfill_state"] == "running"
    assert TrackedWallet.objects.get(id=whale.id).backfill_state == BackfillState.RUNNING
    assert api.post(f"/api/v1/admin/wallets/{address('untracked')}/activate/").status_code == 404


# --- nobody signed in ----------------------------------------------------------------------------------

USER_ENDPOINTS = [
    ("get", "/api/v1/me/"),
    ("get", "/api/v1/notes/"),
    ("post", "/api/v1/notes/"),
    ("get", "/api/v1/notes/{whale}/"),
    ("patch", "/api/v1/notes/{whale}/"),
    ("put", "/api/v1/notes/{whale}/"),
    ("delete", "/api/v1/notes/{whale}/"),
    ("get", "/api/v1/devices/"),
    ("post", "/api/v1/devices/"),
    ("get", "/api/v1/devices/1/"),
    ("patch", "/api/v1/devices/1/"),
    ("delete", "/api/v1/devices/1/"),
    ("get", "/api/v1/follows/"),
    ("post", "/api/v1/follows/"),
    ("delete", "/api/v1/follows/{whale}/"),
    ("post", "/api/v1/auth/token/revoke-all/"),
]


@pytest.mark.parametrize("method,url", USER_ENDPOINTS)
def test_every_user_scoped_endpoint_is_401_for_nobody_signed_in(whale, anonymous, method, url):
    response = getattr(anonymous, method)(url.format(whale=whale.address), {}, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
