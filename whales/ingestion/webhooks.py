"""`POST /hooks/helius/`: Helius delivers enhanced transactions here; a thin adapter over `ingest`.

`handle_delivery` is the one place that checks and ingests a delivery. Daphne routes the path to
`helius_webhook_asgi`, which reaches it in one hop to the sync thread: Django's browser middleware
(sessions, CSRF, messages, static files) costs two thread hops per middleware under ASGI, about a
third of a delivery's time, and a machine posting with a shared secret needs none of it. It also
answers as soon as the swaps are stored and their rows pushed, and leaves booking them (P&L, the
wallet's figures: most of an ingest's CPU) to a Celery worker, so the web process is free for the
next delivery. The Django view below serves the same function to Django's own handler (the test
client, a WSGI server), booking inline.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, close_old_connections
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from whales.ingestion.ingest import ingest
from whales.models import ArrivedVia

logger = logging.getLogger(__name__)


def handle_delivery(authorization: str, body: bytes, *, book_in_worker: bool = False) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON answer) for one delivery: authenticated by the shared secret, then the array
    of transactions is ingested (idempotent) and booked, here or by a Celery worker (then its Celery
    messages and after-commit writes go out from the background thread, `queue.in_background`).

    401 without the right `Authorization`; 400 (and a log line) for a body that is not a JSON array;
    503 while the database is unavailable (nothing stored, Helius delivers again); 200 with what was
    stored otherwise — items that could not be read or stored are listed under "rejected" (and kept
    in quarantine), never a reason to refuse the good ones.
    """
    secret = settings.HELIUS_WEBHOOK_SECRET
    if not secret:
        logger.error("helius webhook: refused a delivery because HELIUS_WEBHOOK_SECRET is not set")
        return 401, {"error": "webhook secret not configured"}
    if not constant_time_compare(authorization, secret):
        logger.warning("helius webhook: wrong Authorization header")
        return 401, {"error": "unauthorized"}
    try:
        transactions = json.loads(body)
    except (ValueError, RecursionError) as error:
        logger.warning("helius webhook: malformed JSON body (%d bytes): %s", len(body), error)
        return 400, {"error": f"body is not valid JSON: {error}"}
    if not isinstance(transactions, list):
        logger.warning("helius webhook: body is %s, not an array of transactions", type(transactions).__name__)
        return 400, {"error": "body must be a JSON array of enhanced transactions"}
    try:
        result = ingest(transactions, ArrivedVia.WEBHOOK, book=not book_in_worker, queue_in_background=book_in_worker)
    except DatabaseError as error:
        # Nothing was stored: Helius delivers the batch again, and nothing in it is lost.
        logger.error("helius webhook: database unavailable, %d transactions refused: %s", len(transactions), error)
        return 503, {"error": "the database is unavailable; deliver again"}
    if book_in_worker:
        result.book_in_worker(queue_in_background=True)
    if result.rejected:
        logger.warning(
            "helius webhook: %d of %d items rejected: %s", len(result.rejected), len(transactions), result.rejected[:5]
        )
    return 200, result.as_json()


@csrf_exempt
@require_POST
def helius_webhook(request: HttpRequest) -> JsonResponse:
    try:
        body = request.body
    except RequestDataTooBig:
        logger.warning("helius webhook: body larger than DATA_UPLOAD_MAX_MEMORY_SIZE refused")
        return JsonResponse({"error": "body too large"}, status=413)
    status, answer = handle_delivery(request.headers.get("Authorization", ""), body)
    return JsonResponse(answer, status=status)


def _with_fresh_connections(function: Any, *args: Any, **kwargs: Any) -> Any:
    # What Django's request_started/request_finished signals do around a request.
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


async def helius_webhook_asgi(scope: dict, receive: Any, send: Any) -> None:
    """The same delivery as `helius_webhook`, as a bare ASGI application (routed in aura/asgi.py)."""
    if scope["method"] != "POST":
        await _answer(send, 405, {"error": "POST only"}, [(b"allow", b"POST")])
        return
    body, too_large = await _read_body(receive, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if too_large:
        logger.warning("helius webhook: body larger than DATA_UPLOAD_MAX_MEMORY_SIZE refused")
        await _answer(send, 413, {"error": "body too large"})
        return
    headers = dict(scope.get("headers") or [])
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    status, answer = await sync_to_async(_with_fresh_connections, thread_sensitive=True)(
        handle_delivery, authorization, body, book_in_worker=True
    )
    await _answer(send, status, answer)


async def _read_body(receive: Any, limit: int) -> tuple[bytes, bool]:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks), False


async def _answer(send: Any, status: int, answer: dict[str, Any], headers: list | None = None) -> None:
    body = json.dumps(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})
