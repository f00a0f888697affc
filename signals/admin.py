"""Signals in the admin: read-only (the engine writes them; a person reads them)."""

from django.contrib import admin

from signals.models import KindScore, Signal, SignalOutcome, TokenSafety


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Signal)
class SignalAdmin(ReadOnly):
    list_display = ["kind", "token", "side", "score", "wallet_count", "fired_at", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["token__mint", "token__symbol", "wallet"]
    list_select_related = ["token"]
    raw_id_fields = ["token"]


@admin.register(SignalOutcome)
class SignalOutcomeAdmin(ReadOnly):
    list_display = ["signal_id", "kind", "fired_at", "return_1h", "return_24h", "hit_1h", "hit_24h", "complete"]
    list_filter = ["kind", "complete"]


@admin.register(KindScore)
class KindScoreAdmin(ReadOnly):
    list_display = ["kind", "period", "signals", "rate_1h", "n_1h", "rate_24h", "n_24h", "updated_at"]


@admin.register(TokenSafety)
class TokenSafetyAdmin(ReadOnly):
    list_display = ["token", "passed", "checked_at"]
    list_filter = ["passed"]
    raw_id_fields = ["token"]
