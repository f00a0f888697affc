"""The API's WebSocket (/ws/api/v1/) over real Redis, through the real ASGI application: a JWT (never a
cookie) signs it in for as long as the token lasts, it subscribes to the pages' groups, sends numbered
JSON events, and a phone that drops and reconnects with its last sequence number gets exactly what it
missed, nothing twice."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from aura import listeners, stream
from aura.api_stream import CLOSE_TOKEN_EXPIRED
from aura.asgi import application
from aura.consumers import CLOSE_UNAUTHENTICATED
from tests.builders import address, usdc_swap

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
WALLET = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"


async def user_and_token(django_user_model, name: str):
    user = await database_sync_to_async(django_user_model.objects.create_user)(name)
    return user, await database_sync_to_async(lambda: str(RefreshToken.for_user(user).access_token))()


async def receive(socket: WebsocketCommunicator) -> dict:
    return json.loads(await socket.receive_from(timeout=5))


async def open_socket(token: str, groups: list[str], last_seq: int | None = None) -> WebsocketCommunicator:
    """Connects (no Origin header, as a phone), authenticates in the URL, subscribes; returns after `ready`."""
    socket = WebsocketCommunicator(application, f"/ws/api/v1/?token={token}")
    connected, _ = await socket.connect()
    assert connected
    ready = await receive(socket)
    assert ready["type"] == "ready"
    subscribe = {"type": "subscribe", "groups": groups}
    if last_seq is not None:
        subscribe["last_seq"] = last_seq
    await socket.send_to(text_data=json.dumps(subscribe))
    return socket


async def events_until_subscribed(socket: WebsocketCommunicator) -> list[dict]:
    received = []
    while (message := await receive(socket)).get("type") != "subscribed":
        received.append(message)
    return received


def ingest_swap(token_label: str, amount: str, at: int):
    from whales.ingestion.ingest import ingest
    from whales.models import ArrivedVia, Swap

    ingest([usdc_swap(WALLET, address(token_label), "buy", amount, amount, at)], ArrivedVia.WEBHOOK)
    return Swap.objects.get(token__mint=address(token_label), token_amount=amount)


def publish_signal(mint: str, score: int) -> int:
    """A signal stored and pushed as the signal writer does; returns its event's sequence number."""
    from datetime import UTC, datetime, timedelta

    from signals.fragments import push_signals
    from signals.models import Signal
    from whales.models import Token

    fired = datetime(2025, 10, 9, 9, 0, tzinfo=UTC) + timedelta(seconds=score)
    signal = Signal.objects.create(
        kind="whale_accumulation",
        token=Token.objects.get_or_create(mint=mint)[0],
        fired_at=fired,
        updated_at=fired,
        active_until=fired + timedelta(hours=6),
        score=score,
        wallet_count=3,
    )
    [seq] = push_signals([signal.id])
    return seq


async def test_a_phone_gets_swaps_and_signals_then_exactly_what_it_missed_after_a_drop(django_user_model):
    from whales.models import TrackedWallet

    alice, token = await user_and_token(django_user_model, "alice")
    await database_sync_to_async(TrackedWallet.objects.create)(address=WALLET, label="Whale <One>")
    groups = ["feed.trades", f"wallet.{WALLET}", "feed.signals"]  # a swap is in two of them: it comes once
    socket = await open_socket(token, groups)
    assert await events_until_subscribed(socket) == []

    swap = await database_sync_to_async(ingest_swap)("first token", "5", 1_760_000_000)
    got_swap = await receive(socket)
    signal_seq = await database_sync_to_async(publish_signal)(address("first token"), 83)
    got_signal = await receive(socket)

    assert got_swap["kind"] == "swap" and got_swap["data"]["id"] == swap.id
    assert got_swap["data"] | {"id": 0} == {
        "id": 0,
        "signature": swap.signature,
        "wallet": WALLET,
        "wallet_label": "Whale <One>",
        "mint": address("first token"),
        "symbol": "",
        "side": "buy",
        "token_amount": str(swap.token_amount),
        "quote_asset": "USDC",
        "quote_amount": str(swap.quote_amount),
        "usd_value": str(swap.usd_value),
        "block_time": "2025-10-09T08:53:20Z",
    }
    assert got_signal["seq"] == signal_seq and got_signal["kind"] == "signal"
    assert got_signal["data"] | {"id": 0} == {
        "id": 0,
        "kind": "whale_accumulation",
        "mint": address("first token"),
        "symbol": "",
        "side": None,
        "score": 83,
        "wallets": 3,
        "fired_at": "2025-10-09T09:01:23Z",
        "updated_at": "2025-10-09T09:01:23Z",
    }
    assert got_signal["seq"] > got_swap["seq"]
    assert await socket.receive_nothing(timeout=0.3)  # the swap came through two groups, went out once
    await socket.disconnect()

    # Offline: two swaps and a signal happen, and an event of a group the phone did not join.
    missed_swaps = [
        await database_sync_to_async(ingest_swap)("second token", "6", 1_760_000_100),
        await database_sync_to_async(ingest_swap)("third token", "7", 1_760_000_200),
    ]
    missed_signal = await database_sync_to_async(publish_signal)(address("second token"), 91)
    await database_sync_to_async(stream.publish)(
        [stream.Event("swap", {"elsewhere": True}, [f"wallet.{address('x')}"])]
    )

    again = await open_socket(token, groups, last_seq=got_signal["seq"])
    replayed = await events_until_subscribed(again)

    assert [(event["kind"], event["data"]["score" if event["kind"] == "signal" else "id"]) for event in replayed] == [
        ("swap", missed_swaps[0].id),
        ("swap", missed_swaps[1].id),
        ("signal", 91),
    ]
    assert replayed[-1]["seq"] == missed_signal
    assert [event["seq"] for event in replayed] == sorted({event["seq"] for event in replayed})
    assert await again.receive_nothing(timeout=0.3)
    # And live again from there.
    live = await database_sync_to_async(ingest_swap)("fourth token", "8", 1_760_000_300)
    assert (await receive(again))["data"]["id"] == live.id
    await again.disconnect()


async def test_the_follows_group_is_the_users_own(django_user_model):
    from portfolios.models import Follow
    from whales.models import TrackedWallet

    alice, alices_token = await user_and_token(django_user_model, "alice")
    bob, bobs_token = await user_and_token(django_user_model, "bob")
    whale = await database_sync_to_async(TrackedWallet.objects.create)(address=WALLET, label="Followed")
    await database_sync_to_async(Follow.objects.create)(user=alice, wallet=whale)
    alices, bobs = await open_socket(alices_token, ["follows"]), await open_socket(bobs_token, ["follows"])
    assert (await receive(alices))["groups"] == ["follows"] and (await receive(bobs))["groups"] == ["follows"]

    swap = await database_sync_to_async(ingest_swap)("followed token", "3", 1_760_000_000)

    assert (await receive(alices))["data"]["id"] == swap.id
    assert await bobs.receive_nothing(timeout=0.3)
    for socket in (alices, bobs):
        await socket.disconnect()


async def test_the_first_message_may_carry_the_token(django_user_model):
    alice, token = await user_and_token(django_user_model, "alice")
    socket = WebsocketCommunicator(application, "/ws/api/v1/")
    assert (await socket.connect())[0]

    await socket.send_to(text_data=json.dumps({"type": "auth", "token": token}))

    assert (await receive(socket))["user"] == "alice"
    await socket.disconnect()


@pytest.mark.parametrize(
    "first_message",
    [
        {"type": "auth", "token": "not-a-jwt"},
        {"type": "subscribe", "groups": ["feed.trades"]},
    ],
)
async def test_without_a_valid_token_first_the_socket_is_closed(django_user_model, first_message):
    socket = WebsocketCommunicator(application, "/ws/api/v1/")
    assert (await socket.connect())[0]

    await socket.send_to(text_data=json.dumps(first_message))

    assert (await receive(socket))["type"] == "error"
    assert (await socket.receive_output(timeout=5)) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_a_refresh_token_or_silence_does_not_sign_in(django_user_model, settings):
    settings.API_STREAM_AUTH_SECONDS = 0.3
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    refresh = await database_sync_to_async(lambda: str(RefreshToken.for_user(alice)))()
    with_refresh = WebsocketCommunicator(application, f"/ws/api/v1/?token={refresh}")
    silent = WebsocketCommunicator(application, "/ws/api/v1/")
    for socket in (with_refresh, silent):
        assert (await socket.connect())[0]
        assert (await receive(socket))["type"] == "error"
        assert (await socket.receive_output(timeout=5))["code"] == CLOSE_UNAUTHENTICATED


@pytest.mark.parametrize(
    "groups",
    [["leaderboard.7d"], ["user.1"], ["follows.1"], ["feed.everything"], "feed.trades", [["feed.trades"]]],
)
async def test_only_the_pages_swap_signal_and_token_groups_can_be_joined(django_user_model, groups):
    alice, token = await user_and_token(django_user_model, "alice")
    socket = await open_socket(token, groups)

    refused = await receive(socket)

    assert refused["type"] == "error" and "groups" in refused["detail"]
    await socket.disconnect()


async def test_a_phone_away_longer_than_the_log_keeps_is_told_of_the_gap(django_user_model, settings):
    settings.API_STREAM_KEEP = 10
    alice, token = await user_and_token(django_user_model, "alice")
    mint = address("busy token")
    first = await database_sync_to_async(publish_signal)(mint, 1)
    for score in range(2, 16):
        await database_sync_to_async(publish_signal)(mint, score)

    socket = await open_socket(token, [f"token.{mint}"], last_seq=first)
    replayed = await events_until_subscribed(socket)

    assert replayed[0]["type"] == "gap"
    assert [event["data"]["score"] for event in replayed[1:]] == list(range(6, 16))
    await socket.disconnect()


async def test_the_pages_socket_still_checks_the_origin_and_the_session():
    foreign = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"https://evil.example")])
    ours = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://127.0.0.1")])

    assert await foreign.connect() == (False, 1000)  # refused before any consumer runs
    assert await ours.connect() == (False, CLOSE_UNAUTHENTICATED)  # the pages' consumer: no session, no socket


async def short_lived_token(user, seconds: int) -> tuple[str, int]:
    """An access token of `user` that expires in `seconds` (whole seconds: the `exp` claim is an integer)."""

    def make() -> tuple[str, int]:
        token = AccessToken.for_user(user)
        token.set_exp(lifetime=timedelta(seconds=seconds))
        return str(token), token["exp"]

    return await database_sync_to_async(make)()


async def receive_not_ping(socket: WebsocketCommunicator, timeout: float = 5) -> dict:
    while (message := json.loads(await socket.receive_from(timeout=timeout))).get("type") == "ping":
        pass
    return message


def expiry_text(exp: int) -> str:
    return datetime.fromtimestamp(exp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_the_socket_closes_when_the_access_token_it_signed_in_with_expires(django_user_model):
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    token, exp = await short_lived_token(alice, 2)
    socket = WebsocketCommunicator(application, f"/ws/api/v1/?token={token}")
    assert (await socket.connect())[0]
    assert (await receive(socket))["expires_at"] == expiry_text(exp)
    await socket.send_to(text_data=json.dumps({"type": "subscribe", "groups": ["feed.trades"]}))
    assert (await receive_not_ping(socket))["type"] == "subscribed"

    told = await receive_not_ping(socket)

    assert time.time() >= exp
    assert told == {"type": "error", "detail": "Not authenticated: the access token expired."}
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_TOKEN_EXPIRED}


async def test_a_fresh_token_of_the_same_user_sent_before_expiry_keeps_the_socket_open(django_user_model):
    alice, fresh = await user_and_token(django_user_model, "alice")
    bob, bobs = await user_and_token(django_user_model, "bob")
    short, exp = await short_lived_token(alice, 3)
    socket = await open_socket(short, ["feed.trades"])
    assert (await receive_not_ping(socket))["type"] == "subscribed"

    for refused, reason in ((bobs, "the token is another user's"), ("not-a-jwt", "the token is invalid or expired")):
        await socket.send_to(text_data=json.dumps({"type": "auth", "token": refused}))
        assert await receive_not_ping(socket) == {"type": "error", "detail": f"Not renewed: {reason}."}
    await socket.send_to(text_data=json.dumps({"type": "auth", "token": fresh}))
    renewed = await receive_not_ping(socket)
    fresh_exp = await database_sync_to_async(lambda: AccessToken(fresh)["exp"])()
    assert renewed == {"type": "renewed", "expires_at": expiry_text(fresh_exp)}

    await asyncio.sleep(exp - time.time() + 0.5)  # past the first token's expiry
    [seq] = await database_sync_to_async(stream.publish)([stream.Event("swap", {"still": "open"}, ["feed.trades"])])

    assert await receive_not_ping(socket) == {"seq": seq, "kind": "swap", "data": {"still": "open"}}
    await socket.disconnect()


async def test_events_go_only_to_groups_a_socket_listens_to_and_are_logged_for_the_rest(django_user_model):
    alice, token = await user_and_token(django_user_model, "alice")
    heard, unheard = f"token.{address('heard token')}", f"token.{address('unheard token')}"
    socket = await open_socket(token, [heard])
    assert (await receive(socket))["type"] == "subscribed"
    listened = database_sync_to_async(listeners.listened)
    assert await listened([stream.api_group(heard), stream.api_group(unheard)]) == {stream.api_group(heard)}

    [missed] = await database_sync_to_async(stream.publish)([stream.Event("swap", {"n": 1}, [unheard])])
    await socket.send_to(text_data=json.dumps({"type": "subscribe", "groups": [unheard], "last_seq": missed - 1}))

    assert await receive_not_ping(socket) == {"seq": missed, "kind": "swap", "data": {"n": 1}}
    assert (await receive_not_ping(socket))["groups"] == sorted([heard, unheard])
    await socket.send_to(text_data=json.dumps({"type": "unsubscribe", "groups": [heard, unheard]}))
    assert (await receive_not_ping(socket))["groups"] == []
    assert await listened([stream.api_group(heard), stream.api_group(unheard)]) == set()
    await socket.disconnect()
