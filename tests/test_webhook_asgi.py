"""The webhook as Daphne serves it: routed past Django's browser middleware to the same handling."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.test import override_settings

from aura.asgi import application
from tests.builders import address, usdc_swap
from whales import queue
from whales.models import Swap, TrackedWallet

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
SECRET = "asgi-webhook-secret"


async def deliver(body: bytes, secret: str = SECRET, method: str = "POST", path: str = "/hooks/helius/") -> tuple:
    headers = [(b"authorization", secret.encode()), (b"content-type", b"application/json")]
    communicator = HttpCommunicator(application, method, path, body=body, headers=headers)
    response = await communicator.get_response(timeout=10)
    return response["status"], json.loads(response["body"] or b"null")


@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
async def test_a_delivery_to_the_asgi_route_is_ingested_once():
    whale = await database_sync_to_async(TrackedWallet.objects.create)(address=address("asgi whale"))
    body = json.dumps([usdc_swap(whale.address, address("asgi token"), "buy", "3", "6", 1_760_000_000)]).encode()

    first = await deliver(body)
    again = await deliver(body, path="/hooks/helius")  # registered without the slash, still here

    delivered = {"received": 1, "new_transactions": 1, "new_swaps": 1, "new_transfers": 0, "quarantined": 0}
    assert first == (200, {**delivered, "rejected": []})
    assert again[1]["new_swaps"] == 0
    assert await database_sync_to_async(Swap.objects.count)() == 1


@override_settings(HELIUS_WEBHOOK_SECRET=SECRET, DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
async def test_the_asgi_route_refuses_what_the_view_refuses():
    assert await deliver(b"[]", secret="wrong") == (401, {"error": "unauthorized"})
    assert (await deliver(b"{not json"))[0] == 400
    assert await deliver(b'{"a": 1}') == (400, {"error": "body must be a JSON array of enhanced transactions"})
    assert await deliver(b"[" + b" " * 2000 + b"]") == (413, {"error": "body too large"})
    assert await deliver(b"", method="GET") == (405, {"error": "POST only"})


@override_settings(HELIUS_WEBHOOK_SECRET=SECRET)
async def test_the_asgi_route_queues_alerts_and_booking_and_marks_the_push_from_the_background_thread():
    from celery.signals import before_task_publish

    published: list[tuple[str, list]] = []

    def note(sender=None, body=None, **kwargs):
        published.append((sender, body[0]))

    whale = await database_sync_to_async(TrackedWallet.objects.create)(address=address("queued whale"))
    body = json.dumps([usdc_swap(whale.address, address("queued token"), "buy", "3", "6", 1_760_000_000)]).encode()
    before_task_publish.connect(note, weak=False)
    try:
        assert (await deliver(body))[0] == 200
        await database_sync_to_async(queue.wait_for_background)()
    finally:
        before_task_publish.disconnect(note)

    swap = await database_sync_to_async(Swap.objects.get)()
    swap_id = swap.id
    assert swap.pushed_at is not None
    assert published == [
        ("alerts.tasks.alert_on_swaps", [[swap_id]]),
        ("whales.tasks.book_trades", [[swap_id], []]),
    ]
