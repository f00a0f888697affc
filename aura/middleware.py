"""Request checks every view relies on, done once before any of them runs."""

from __future__ import annotations

from urllib.parse import unquote

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL_REFUSED = "The address or its query contains a NUL character (%00), which no page or API value can hold."


class RefuseNulCharacters:
    """Answer 400 to a request whose path or query string holds a NUL character.

    PostgreSQL cannot hold NUL in text, so a NUL reaching a lookup (`/tokens/%00/`, `?q=%00`) would
    end as a database error, a 500. No URL of ours means anything with one, so it is refused here,
    once, rather than in every view. Form fields refuse NUL themselves (Django's validators).
    Works in both the sync and the async stack without a thread hop.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self._acall(request)
        return refusal(request) or self.get_response(request)

    async def _acall(self, request: HttpRequest):
        return refusal(request) or await self.get_response(request)


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The 400 a request with a NUL in its path or query gets (JSON for the API), else None."""
    query = request.META.get("QUERY_STRING", "")
    if "\x00" not in request.path and "\x00" not in unquote(query) and "\x00" not in query:
        return None
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": NUL_REFUSED}, status=400)
    return HttpResponseBadRequest(NUL_REFUSED, content_type="text/plain; charset=utf-8")
