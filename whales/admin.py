"""Admin: tracked wallets are managed here (search, filters, CSV import/export, poll and backfill actions)."""

from __future__ import annotations

import csv
import io
import json

from django import forms
from django.contrib import admin, messages
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html

from whales import queue
from whales.ingestion.ingest import retry_quarantined
from whales.models import BackfillState, Quarantined, Swap, Token, TokenTransfer, TrackedWallet
from whales.solana import InvalidAddress, validate_solana_address
from whales.wallets import import_wallets, restart_backfill, set_active, wallet_activity_changed, wallets_added

CSV_MAX_BYTES = 5 * 1024 * 1024


class TagFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT unnest(tags) FROM {TrackedWallet._meta.db_table} ORDER BY 1")
            return [(tag, tag) for (tag,) in cursor.fetchall()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(tags__contains=[self.value()]) if self.value() else queryset


class IngestionStateFilter(admin.SimpleListFilter):
    title = "ingestion state"
    parameter_name = "ingestion"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("ok", "healthy"),
            ("error", "last call failed"),
            ("backfilling", "backfilling"),
            ("backfill_failed", "backfill failed"),
            ("never_polled", "never polled"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        match self.value():
            case "ok":
                return queryset.filter(last_error="").exclude(last_polled_at=None)
            case "error":
                return queryset.exclude(last_error="")
            case "backfilling":
                return queryset.filter(backfill_state__in=[BackfillState.PENDING, BackfillState.RUNNING])
            case "backfill_failed":
                return queryset.filter(backfill_state=BackfillState.FAILED)
            case "never_polled":
                return queryset.filter(last_polled_at=None)
        return queryset


class CsvImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header row: address,label,tags (tags separated by ; or ,).")

    def clean_file(self) -> list[tuple[int, dict[str, str]]]:
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {CSV_MAX_BYTES // 1024 // 1024} MB.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        reader = csv.DictReader(io.StringIO(text))
        header = [name.strip().lower() for name in reader.fieldnames or []]
        if "address" not in header:
            raise forms.ValidationError("The first row must name the columns, with at least 'address'.")
        reader.fieldnames = header
        try:
            return [
                (
                    reader.line_num,
                    {
                        key: (value or "").strip() if key != "address" else value or ""
                        for key, value in row.items()
                        if key
                    },
                )
                for row in reader
            ]
        except csv.Error as error:
            raise forms.ValidationError(f"The CSV could not be read: {error}") from None


class TrackedWalletForm(forms.ModelForm):
    # Not stripped: an address pasted with a space or newline is refused with the reason (whales.solana).
    address = forms.CharField(strip=False, help_text="Solana address (base58, 32 bytes).")

    class Meta:
        model = TrackedWallet
        fields = ["address", "label", "tags", "notes", "is_active"]

    def clean_address(self) -> str:
        try:
            return validate_solana_address(self.cleaned_data["address"])
        except InvalidAddress as error:
            raise forms.ValidationError(str(error), code="invalid_address") from None


@admin.register(TrackedWallet)
class TrackedWalletAdmin(admin.ModelAdmin):
    form = TrackedWalletForm
    list_display = [
        "display_label",
        "short_address",
        "tag_list",
        "is_active",
        "last_swap_at",
        "last_polled_at",
        "backfill",
        "error",
    ]
    list_filter = [TagFilter, "is_active", IngestionStateFilter]
    search_fields = ["address", "label"]
    list_per_page = 50
    actions = ["poll_now", "backfill_again", "activate", "deactivate", "export_csv"]
    readonly_fields = [
        "added_by",
        "created_at",
        "newest_signature",
        "next_poll_at",
        "last_polled_at",
        "last_swap_at",
        "last_error",
        "last_error_at",
        "backfill_state",
        "backfill_progress_text",
        "backfill_cursor",
        "backfill_until",
        "backfill_reached",
        "backfill_transactions",
        "backfill_started_at",
        "backfill_finished_at",
    ]
    fieldsets = [
        (None, {"fields": ["address", "label", "tags", "notes", "is_active"]}),
        ("Ingestion", {"fields": readonly_fields}),
    ]
    change_list_template = "admin/whales/trackedwallet/change_list.html"

    @admin.display(description="label", ordering="label")
    def display_label(self, wallet: TrackedWallet) -> str:
        return wallet.label or "—"

    @admin.display(description="address", ordering="address")
    def short_address(self, wallet: TrackedWallet) -> str:
        return format_html('<span class="mono" title="{}">{}</span>', wallet.address, wallet.short_address)

    @admin.display(description="tags")
    def tag_list(self, wallet: TrackedWallet) -> str:
        return ", ".join(wallet.tags)

    @admin.display(description="backfill")
    def backfill(self, wallet: TrackedWallet) -> str:
        progress = wallet.backfill_progress()
        if wallet.backfill_state == BackfillState.FAILED:
            return "failed"
        text = "—" if progress is None else f"{progress} %"
        return f"{text}, retrying" if wallet.backfill_retry_at else text

    @admin.display(description="backfill progress")
    def backfill_progress_text(self, wallet: TrackedWallet) -> str:
        progress = wallet.backfill_progress()
        reached = f", back to {wallet.backfill_reached:%Y-%m-%d %H:%M} UTC" if wallet.backfill_reached else ""
        percent = "—" if progress is None else f"{progress} %"
        count = f"{wallet.backfill_transactions} transactions"
        retry = ""
        if wallet.backfill_retry_at:
            retry = f"; failed {wallet.backfill_failures}× in a row, next try {wallet.backfill_retry_at:%H:%M:%S} UTC"
        return f"{wallet.get_backfill_state_display()}: {percent} ({count}{reached}){retry}"

    @admin.display(description="last error")
    def error(self, wallet: TrackedWallet) -> str:
        if not wallet.last_error:
            return ""
        return format_html('<span class="errornote" title="{}">{}</span>', wallet.last_error, wallet.last_error[:60])

    def save_model(self, request: HttpRequest, wallet: TrackedWallet, form: forms.ModelForm, change: bool) -> None:
        if not change:
            wallet.added_by = request.user
        super().save_model(request, wallet, form, change)
        if not change:
            transaction.on_commit(lambda: wallets_added([wallet]))
        elif "is_active" in form.changed_data:
            wallet_activity_changed([wallet.id])

    @admin.action(description="Poll now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.filter(is_active=True).values_list("id", flat=True))
        TrackedWallet.objects.filter(id__in=ids).update(next_poll_at=timezone.now())
        for wallet_id in ids:
            queue.enqueue("poll_wallet", wallet_id)
        self.message_user(request, f"Polling {len(ids)} active wallet(s) now.", messages.SUCCESS)

    @admin.action(description="Backfill history again")
    def backfill_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        wallets = list(queryset.filter(is_active=True))
        for wallet in wallets:
            restart_backfill(wallet)
        self.message_user(request, f"Backfilling {len(wallets)} active wallet(s).", messages.SUCCESS)

    @admin.action(description="Activate")
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = set_active(queryset.values_list("id", flat=True), True)
        self.message_user(request, f"Activated {count} wallet(s).", messages.SUCCESS)

    @admin.action(description="Deactivate")
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = set_active(queryset.values_list("id", flat=True), False)
        self.message_user(request, f"Deactivated {count} wallet(s).", messages.SUCCESS)

    @admin.action(description="Export as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="tracked-wallets.csv"'
        writer = csv.writer(response)
        writer.writerow(["address", "label", "tags", "active", "last_swap_at"])
        for wallet in queryset.order_by("label", "address"):
            writer.writerow(
                [
                    wallet.address,
                    _csv_safe(wallet.label),
                    _csv_safe(";".join(wallet.tags)),
                    "yes" if wallet.is_active else "no",
                    wallet.last_swap_at.isoformat() if wallet.last_swap_at else "",
                ]
            )
        return response

    def get_urls(self) -> list:
        custom = [path("import-csv/", self.admin_site.admin_view(self.import_csv), name="whales_trackedwallet_import")]
        return custom + super().get_urls()

    def import_csv(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return redirect("admin:whales_trackedwallet_changelist")
        form = CsvImportForm(request.POST or None, request.FILES or None)
        outcomes = None
        if request.method == "POST" and form.is_valid():
            outcomes = import_wallets(form.cleaned_data["file"], added_by=request.user)
            added = sum(o.status == "added" for o in outcomes)
            errors = sum(o.status == "error" for o in outcomes)
            level = messages.WARNING if errors else messages.SUCCESS
            self.message_user(request, f"{added} wallet(s) added, {errors} row(s) refused.", level)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import tracked wallets from CSV",
            "form": form,
            "outcomes": outcomes,
        }
        return render(request, "admin/whales/trackedwallet/import_csv.html", context)


def _csv_safe(text: str) -> str:
    """Keep a spreadsheet from running a label as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Token)
class TokenAdmin(ReadOnlyAdmin):
    list_display = ["symbol", "name", "mint", "decimals", "price_usd", "price_source", "price_updated_at"]
    search_fields = ["mint", "symbol", "name"]


@admin.register(Swap)
class SwapAdmin(ReadOnlyAdmin):
    list_display = [
        "block_time",
        "wallet",
        "side",
        "token_amount",
        "token",
        "quote_amount",
        "quote_mint",
        "usd_value",
        "source",
        "arrived_via",
    ]
    list_filter = ["side", "arrived_via", "source"]
    search_fields = ["signature", "wallet__address", "wallet__label", "token__mint", "token__symbol"]
    list_select_related = ["wallet", "token"]
    date_hierarchy = "block_time"
    show_full_result_count = False

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        if len(search_term) >= 32:  # an address or signature: an exact match uses the indexes
            term = search_term.strip()
            return queryset.filter(Q(signature=term) | Q(wallet__address=term) | Q(token__mint=term)), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(TokenTransfer)
class TokenTransferAdmin(ReadOnlyAdmin):
    list_display = ["block_time", "wallet", "direction", "amount", "token", "usd_price", "source", "arrived_via"]
    list_filter = ["direction", "arrived_via"]
    search_fields = ["signature", "wallet__address", "wallet__label", "token__mint", "token__symbol"]
    list_select_related = ["wallet", "token"]
    date_hierarchy = "block_time"


@admin.register(Quarantined)
class QuarantinedAdmin(admin.ModelAdmin):
    """What arrived and could not be read or stored, kept as it came: looked at, tried again, or deleted."""

    list_display = ["last_seen_at", "kind", "key", "arrived_via", "short_reason", "times_seen"]
    list_filter = ["kind", "arrived_via"]
    search_fields = ["key", "reason"]
    fields = ["kind", "key", "arrived_via", "reason", "raw_pretty", "first_seen_at", "last_seen_at", "times_seen"]
    readonly_fields = fields
    date_hierarchy = "last_seen_at"
    actions = ["try_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # looked at, tried again or deleted; never edited

    @admin.display(description="reason")
    def short_reason(self, held: Quarantined) -> str:
        return held.reason[:120]

    @admin.display(description="as it arrived (JSON; \\u0000 is a NUL character)")
    def raw_pretty(self, held: Quarantined) -> str:
        try:
            text = json.dumps(json.loads(held.raw), indent=2, ensure_ascii=True)
        except ValueError:
            text = held.raw
        return format_html('<pre class="mono" style="white-space: pre-wrap">{}</pre>', text)

    @admin.action(description="Try the selected transactions again")
    def try_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        stored, kept = retry_quarantined(queryset.values_list("id", flat=True))
        level = messages.SUCCESS if not kept else messages.WARNING
        self.message_user(request, f"{stored} stored; {kept} still cannot be stored and stay here.", level)
