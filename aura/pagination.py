"""The API's pagination, strict about its query parameters: a value the schema does not allow (not a
whole number, below the minimum, a cursor that was never handed out) is a 400 naming the parameter,
never silently read as the default. Page sizes above the maximum are taken as the maximum, so
`?limit=9223372036854775808` is a full page rather than a database error."""

from __future__ import annotations

import re

from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

WHOLE_NUMBER = re.compile(r"[0-9]{1,30}")
MAX_OFFSET = 1_000_000_000  # far past any list; PostgreSQL's OFFSET is a bigint, and Python's ints are not


def whole_number(request: Request, name: str, minimum: int, maximum: int | None = None) -> int | None:
    """The query parameter `name` as an int (None when absent); 400 unless a whole number from `minimum`
    to `maximum` (above `maximum` when None is allowed: the caller caps it)."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not WHOLE_NUMBER.fullmatch(raw) or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
        upto = f" and at most {maximum}" if maximum is not None else ""
        raise ValidationError({name: [f"Must be a whole number of at least {minimum}{upto}."]})
    return int(raw)


def _integer(name: str, description: str, minimum: int, maximum: int | None = None) -> dict:
    schema = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return {"name": name, "required": False, "in": "query", "description": description, "schema": schema}


class CappedLimitOffsetPagination(pagination.LimitOffsetPagination):
    max_limit = 200

    def get_limit(self, request: Request) -> int:
        limit = whole_number(request, self.limit_query_param, 1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request: Request) -> int:
        return whole_number(request, self.offset_query_param, 0, MAX_OFFSET) or 0

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            _integer(
                self.limit_query_param,
                f"results per page (default {self.default_limit}, at most "
                f"{self.max_limit}: more is taken as {self.max_limit})",
                1,
            ),
            _integer(self.offset_query_param, "how many results to skip", 0, MAX_OFFSET),
        ]


class StrictPageNumberPagination(pagination.PageNumberPagination):
    """Numbered pages; a page past the last is a 404 (documented), a page that is no number a 400."""

    def get_page_number(self, request: Request, paginator) -> int:
        number = whole_number(request, self.page_query_param, 1) or 1
        if (number - 1) * (self.get_page_size(request) or 1) > MAX_OFFSET:
            # Past any list, and its OFFSET past PostgreSQL's bigint: not found, before any query.
            raise NotFound(self.invalid_page_message.format(page_number=number, message=""))
        return number

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [_integer(self.page_query_param, "page number, from 1 (past the last page: 404)", 1)]


class StrictCursorPagination(pagination.CursorPagination):
    """Newest first in pages that hold still while rows arrive; `next` and `previous` carry the cursor."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        size = whole_number(request, self.page_size_query_param, 1)
        return self.page_size if size is None else min(size, self.max_page_size)

    def decode_cursor(self, request: Request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: ["Not a cursor this list handed out."]}) from None

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "where the page starts: take it from `next` or `previous` of the page before",
                "schema": {"type": "string"},
            },
            _integer(
                self.page_size_query_param,
                f"results per page (default {self.page_size}, at most "
                f"{self.max_page_size}: more is taken as {self.max_page_size})",
                1,
            ),
        ]
