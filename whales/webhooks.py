"""`POST /hooks/helius/`: Helius delivers enhanced transactions here; a thin adapter over `actions.ingest`."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from whales import actions
from whales.models import ArrivedVia

logger = logging.getLogger(__name__)


def _refuse(status: int, error: str) -> JsonResponse:
    return JsonResponse({"error": error}, status=status)


@csrf_exempt
@require_POST
def helius_webhook(request: HttpRequest) -> JsonResponse:
    """Authenticate by the shared secret, read the array of transactions, ingest it (idempotent).

    401 without the right `Authorization`; 400 (and a log line) for a body that is not a JSON
    array; 200 with what was stored otherwise, unreadable items listed under "rejected".
    """
    secret = settings.HELIUS_WEBHOOK_SECRET
    if not secret:
        logger.error("helius webhook: refused a delivery because HELIUS_WEBHOOK_SECRET is not set")
        return _refuse(401, "webhook secret not configured")
    if not constant_time_compare(request.headers.get("Authorization", ""), secret):
        logger.warning("helius webhook: wrong Authorization header from %s", request.META.get("REMOTE_ADDR"))
        return _refuse(401, "unauthorized")
    try:
        body = json.loads(request.body)
    except RequestDataTooBig:
        logger.warning("helius webhook: body larger than DATA_UPLOAD_MAX_MEMORY_SIZE refused")
        return _refuse(413, "body too large")
    except (ValueError, RecursionError) as error:
        logger.warning("helius webhook: malformed JSON body (%d bytes): %s", len(request.body), error)
        return _refuse(400, f"body is not valid JSON: {error}")
    if not isinstance(body, list):
        logger.warning("helius webhook: body is %s, not an array of transactions", type(body).__name__)
        return _refuse(400, "body must be a JSON array of enhanced transactions")
    result = actions.ingest(body, ArrivedVia.WEBHOOK)
    if result.rejected:
        logger.warning(
            "helius webhook: %d of %d items rejected: %s", len(result.rejected), len(body), result.rejected[:5]
        )
    return JsonResponse(result.as_json())
