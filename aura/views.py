import logging

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aura.health import check_database, check_redis

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when PostgreSQL and Redis both answer; 503 naming the part that does not.

    Why a part fails (hosts, socket paths, the driver's message) goes to the log, and to staff: an
    anonymous caller — a load balancer, anyone — learns only "ok" or "error" per part.
    """
    problems = {"database": check_database(), "redis": check_redis()}
    body: dict = {part: ("ok" if problem is None else "error") for part, problem in problems.items()}
    failing = {part: problem for part, problem in problems.items() if problem}
    for part, problem in failing.items():
        logger.error("healthz: %s: %s", part, problem)
    if failing and _is_staff(request):
        body["errors"] = failing
    return JsonResponse(body, status=503 if failing else 200)


def _is_staff(request: HttpRequest) -> bool:
    # The session lives in the database, which may be what is failing.
    try:
        return bool(request.user.is_staff)
    except DatabaseError:
        return False
