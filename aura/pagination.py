"""The API's default pagination: limit/offset with a cap, so `?limit=9223372036854775808` is a full
page rather than a database error."""

from rest_framework.pagination import LimitOffsetPagination


class CappedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 200
