from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aura.health import check_database, check_redis


@never_cache
@require_GET
def healthz(request):
    """200 when PostgreSQL and Redis both answer; 503 naming the part that does not."""
    problems = {"database": check_database(), "redis": check_redis()}
    body = {part: ("ok" if problem is None else "error") for part, problem in problems.items()}
    failing = {part: problem for part, problem in problems.items() if problem}
    if failing:
        body["errors"] = failing
    return JsonResponse(body, status=503 if failing else 200)
