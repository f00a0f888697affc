"""The OpenAPI schema's error answers, written once for every operation.

Each operation documents what it can answer besides success: 400 when it takes parameters or a body,
401 unless anyone may call it, 403 when it is for staff or takes a browser session's unsafe method
(CSRF), 404 when its path names an object or its pages are numbered, 415 when it takes a body, and
429 always (the rate limits).
An operation's own `extend_schema(responses=...)` wins over these.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import pagination, permissions, serializers


class ErrorSerializer(serializers.Serializer):
    """What every refusal other than a validation error carries: a sentence saying why."""

    detail = serializers.CharField(help_text="why the request was refused")


# A validation error names each refused field (or `detail` / `non_field_errors`) with its reasons.
VALIDATION_ERROR = OpenApiResponse(
    inline_serializer(
        "ValidationError",
        fields={"detail": serializers.CharField(required=False)},
    ),
    description="invalid parameters or body: each refused field is a key, its value the reasons",
    examples=[
        OpenApiExample("a refused field", value={"address": ["Not base58: it contains '0'."]}, status_codes=["400"]),
        OpenApiExample(
            "a refused parameter", value={"detail": "`sort` must be one of: pnl, volume."}, status_codes=["400"]
        ),
    ],
)


def _error(description: str, example: str) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer, description=description, examples=[OpenApiExample(description, value={"detail": example})]
    )


STANDARD_ERRORS: dict[str, OpenApiResponse] = {
    "400": VALIDATION_ERROR,
    "401": _error("no credentials, or invalid or expired ones", "Authentication credentials were not provided."),
    "403": _error(
        "signed in, but not allowed (staff only, or a browser session without its CSRF token)",
        "You do not have permission to perform this action.",
    ),
    "404": _error("nothing of the requesting user's has this key", "Not found."),
    "415": _error(
        "the body is in a format this endpoint does not read", 'Unsupported media type "text/plain" in request.'
    ),
    "429": _error(
        "too many requests: wait the seconds in `Retry-After`",
        "Request was throttled. Expected available in 42 seconds.",
    ),
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._possible_errors(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(STANDARD_ERRORS[code], code)
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "seconds to wait",
            }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _possible_errors(self, operation: dict) -> list[str]:
        codes = ["429"]
        takes_body = "requestBody" in operation
        if operation.get("parameters") or takes_body:
            codes.append("400")
        if takes_body:
            codes.append("415")
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            codes.append("404")
        elif isinstance(self._get_paginator(), pagination.PageNumberPagination) and self._is_list_view():
            codes.append("404")  # a page past the last
        checks = [permission.__class__ for permission in self.view.get_permissions()]
        if not any(issubclass(check, permissions.AllowAny) for check in checks):
            codes.append("401")
            if self.method in UNSAFE_METHODS or any(issubclass(check, permissions.IsAdminUser) for check in checks):
                codes.append("403")
        return codes
