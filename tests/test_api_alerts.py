"""The user's alerts in the API: alice's channels, rules and delivery log are hers — bob has his own,
carol is refused (another's is a 404, as if it did not exist), nobody signed in gets a 401 — and no
answer ever carries a channel's secret."""

from __future__ import annotations

import json
import uuid

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from alerts import actions
from alerts.models import Channel, Delivery, Rule
from tests.builders import address
from whales.models import TrackedWallet

pytestmark = pytest.mark.django_db


def phone_of(user) -> APIClient:
    """A client signed in as a phone is, from an address of its own."""
    octets = uuid.uuid4().bytes[:3]
    client = APIClient(REMOTE_ADDR=f"10.{octets[0]}.{octets[1]}.{octets[2]}")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def anonymous() -> APIClient:
    octets = uuid.uuid4().bytes[:3]
    return APIClient(REMOTE_ADDR=f"10.{octets[0]}.{octets[1]}.{octets[2]}")


@pytest.fixture
def whale() -> TrackedWallet:
    return TrackedWallet.objects.create(address=address("whale"), label="Whale")


DISCORD_URL = "https://discord.com/api/webhooks/4242/discord-token-never-shown"
WEBHOOK_SECRET = "signing-secret-never-shown-0123"


def add_channels(api) -> dict[str, dict]:
    """A Discord channel and a signed webhook, added through the API."""
    discord = api.post("/api/v1/alerts/channels/", {"kind": "discord", "name": "Team", "target": DISCORD_URL})
    webhook = api.post(
        "/api/v1/alerts/channels/",
        {"kind": "webhook", "target": "https://hooks.example/aura", "secret": WEBHOOK_SECRET},
        format="json",
    )
    assert discord.status_code == 201 and webhook.status_code == 201, (discord.content, webhook.content)
    return {"discord": discord.json(), "webhook": webhook.json()}


def test_alice_adds_channels_whose_secrets_no_answer_shows(alice, django_capture_on_commit_callbacks):
    api = phone_of(alice)
    with django_capture_on_commit_callbacks(execute=False):
        made = add_channels(api)
        test = api.post(f"/api/v1/alerts/channels/{made['webhook']['id']}/test/")

    assert made["discord"]["kind"] == "discord" and made["discord"]["name"] == "Team"
    assert made["discord"]["destination"] is None  # its URL is the credential
    assert made["webhook"]["destination"] == "https://hooks.example/aura"
    assert Channel.objects.get(kind="discord").secret == DISCORD_URL
    assert Channel.objects.get(kind="webhook").secret == WEBHOOK_SECRET
    answers = [
        json.dumps(made),
        test.content.decode(),
        api.get("/api/v1/alerts/channels/").content.decode(),
        api.get(f"/api/v1/alerts/channels/{made['discord']['id']}/").content.decode(),
        api.get("/api/v1/alerts/deliveries/").content.decode(),
        api.get("/api/v1/schema/", {"format": "json"}).content.decode(),
    ]
    for answer in answers:
        assert "discord-token-never-shown" not in answer and WEBHOOK_SECRET not in answer


def test_bad_channels_are_refused_naming_the_field(alice):
    api = phone_of(alice)

    def refused(body: dict) -> dict:
        raw = json.dumps(body)  # escapes a lone surrogate as JSON may
        response = api.post("/api/v1/alerts/channels/", raw, content_type="application/json")
        assert response.status_code == 400
        return response.json()

    assert "target" in refused({"kind": "email", "target": "not an address"})
    assert "target" in refused({"kind": "discord", "target": "https://example.com/not/discord"})
    assert "secret" in refused({"kind": "webhook", "target": "https://hooks.example/aura"})
    assert "kind" in refused({"kind": "inapp"})
    assert "name" in refused({"kind": "email", "target": "a@example.com", "name": "\ud800"})
    assert not Channel.objects.exists()


def test_a_telegram_channel_comes_with_its_link_and_cannot_be_tested_before_it_is_linked(alice):
    api = phone_of(alice)

    made = api.post("/api/v1/alerts/channels/", {"kind": "telegram", "name": "Phone"}, format="json").json()

    code = Channel.objects.get().telegram_links.get().code
    assert made["state"] == "pending" and made["telegram_link"].endswith(f"?start={code}")
    refused = api.post(f"/api/v1/alerts/channels/{made['id']}/test/")
    assert refused.status_code == 400 and "link it first" in refused.json()["detail"]
    assert not Delivery.objects.exists()


def test_a_test_message_sent_through_the_api_reaches_discord(messaging, alice, django_capture_on_commit_callbacks):
    api = phone_of(alice)
    made = add_channels(api)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        test = api.post(f"/api/v1/alerts/channels/{made['discord']['id']}/test/")

    assert test.status_code == 202 and test.json()["status"] == "queued" and len(queued) == 1
    actions.send_delivery(test.json()["delivery"])  # what the queued task does
    [posted] = messaging.messaging.messages("discord")
    assert "test" in json.dumps(posted["body"]).lower()
    [logged] = api.get("/api/v1/alerts/deliveries/").json()["results"]
    assert logged["kind"] == "test" and logged["status"] == "sent" and logged["channel"] == made["discord"]["id"]
    assert "discord-token-never-shown" not in json.dumps(logged)


def test_alice_writes_a_rule_routed_to_her_channels_and_changes_it(alice, whale):
    api = phone_of(alice)
    channels = add_channels(api)

    created = api.post(
        "/api/v1/alerts/rules/",
        {
            "name": "big buys",
            "wallets": "chosen",
            "chosen_wallets": [whale.address],
            "side": "buy",
            "min_usd": "25000",
            "channels": [channels["discord"]["id"]],
        },
        format="json",
    )

    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["chosen_wallets"] == [whale.address] and rule["min_usd"] == "25000.00"
    stored = Rule.objects.get()
    assert stored.user == alice and list(stored.channels.all()) == [Channel.objects.get(kind="discord")]
    url = f"/api/v1/alerts/rules/{rule['id']}/"
    changed = api.patch(url, {"channels": [channels["webhook"]["id"]], "is_active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["name"] == "big buys"
    stored.refresh_from_db()
    assert not stored.is_active and list(stored.channels.all()) == [Channel.objects.get(kind="webhook")]
    assert api.patch(url, {"token_mint": "0xdeadbeef"}, format="json").status_code == 400
    assert api.patch(url, {"channels": []}, format="json").status_code == 400
    assert api.delete(url).status_code == 204 and not Rule.objects.exists()


def test_a_rule_cannot_route_to_anothers_channel(alice, bob):
    bobs = add_channels(phone_of(bob))
    api = phone_of(alice)

    refused = api.post("/api/v1/alerts/rules/", {"channels": [bobs["discord"]["id"]]}, format="json")

    assert refused.status_code == 400 and "channels" in refused.json()
    mine = add_channels(api)
    rule = api.post("/api/v1/alerts/rules/", {"channels": [mine["discord"]["id"]]}, format="json").json()
    moved = api.patch(f"/api/v1/alerts/rules/{rule['id']}/", {"channels": [bobs["webhook"]["id"]]}, format="json")
    assert moved.status_code == 400 and "channels" in moved.json()
    assert list(Rule.objects.get().channels.values_list("user__username", flat=True)) == ["alice"]


def test_nobody_reads_changes_or_deletes_anothers_channel_rule_or_delivery(alice, bob, carol):
    alices = add_channels(phone_of(alice))
    rule = phone_of(alice).post("/api/v1/alerts/rules/", {"channels": [alices["discord"]["id"]]}, format="json")
    delivery_id = actions.send_test(Channel.objects.get(id=alices["webhook"]["id"]))
    add_channels(phone_of(bob))
    api = phone_of(carol)
    channel_url = f"/api/v1/alerts/channels/{alices['discord']['id']}/"
    rule_url = f"/api/v1/alerts/rules/{rule.json()['id']}/"
    delivery_url = f"/api/v1/alerts/deliveries/{delivery_id}/"

    for path in ("channels", "rules", "deliveries"):
        assert api.get(f"/api/v1/alerts/{path}/").json()["results"] == []
    assert api.get(channel_url).status_code == 404
    assert api.post(f"{channel_url}test/").status_code == 404
    assert api.delete(channel_url).status_code == 404
    assert api.get(rule_url).status_code == 404
    assert api.patch(rule_url, {"name": "carol's now"}, format="json").status_code == 404
    assert api.delete(rule_url).status_code == 404
    assert api.get(delivery_url).status_code == 404
    assert api.delete(delivery_url).status_code == 405  # the log is read-only, for its owner too
    assert Channel.objects.filter(user=alice).count() == 2 and Rule.objects.get().name == ""
    assert list(Delivery.objects.values_list("id", flat=True)) == [delivery_id]
    assert len(phone_of(bob).get("/api/v1/alerts/channels/").json()["results"]) == 2
    assert phone_of(bob).get("/api/v1/alerts/deliveries/").json()["results"] == []


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "channels/"),
        ("post", "channels/"),
        ("get", "channels/{channel}/"),
        ("delete", "channels/{channel}/"),
        ("post", "channels/{channel}/test/"),
        ("get", "rules/"),
        ("post", "rules/"),
        ("get", "rules/{rule}/"),
        ("patch", "rules/{rule}/"),
        ("delete", "rules/{rule}/"),
        ("get", "deliveries/"),
        ("get", "deliveries/{delivery}/"),
    ],
)
def test_nobody_signed_in_gets_401(alice, anonymous, method, path):
    channel, _ = actions.add_channel(alice, "email", "Mail", "alice@example.com")
    rule = actions.save_rule(Rule(user=alice), [channel])
    delivery_id = actions.send_test(channel)
    url = "/api/v1/alerts/" + path.format(channel=channel.id, rule=rule.id, delivery=delivery_id)

    assert getattr(anonymous, method)(url, {}, format="json").status_code == 401
    assert Channel.objects.count() == 1 and Rule.objects.count() == 1 and Delivery.objects.count() == 1


def test_the_delivery_log_is_newest_first_in_cursor_pages(alice):
    channel, _ = actions.add_channel(alice, "email", "Mail", "alice@example.com")
    ids = [actions.send_test(channel) for _ in range(5)]
    api = phone_of(alice)

    first = api.get("/api/v1/alerts/deliveries/", {"page_size": 3}).json()
    second = api.get(first["next"]).json()

    assert [d["id"] for d in first["results"] + second["results"]] == ids[::-1]
    assert second["next"] is None
    assert api.get("/api/v1/alerts/deliveries/", {"cursor": "nonsense"}).status_code == 400
