"""Serializer fields the API's writes share."""

from __future__ import annotations

from rest_framework import serializers


class StorableText(serializers.CharField):
    """Text PostgreSQL can store: besides NUL (refused by every CharField), a JSON body can carry lone
    UTF-16 surrogates ("\\ud800"), which no UTF-8 column holds; refused here with a reason, not a 500."""

    default_error_messages = {"surrogate": "Contains a lone UTF-16 surrogate, which is no character."}

    def to_internal_value(self, data: object) -> str:
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("surrogate")
        return value


class Labels(serializers.ListField):
    """Up to 20 short labels: trimmed, empty ones dropped, each named once, sorted."""

    def __init__(self, **kwargs) -> None:
        super().__init__(child=StorableText(max_length=40, allow_blank=True), max_length=20, **kwargs)

    def to_internal_value(self, data: object) -> list[str]:
        return sorted({label.strip() for label in super().to_internal_value(data) if label.strip()})
