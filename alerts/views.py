"""Alert pages: browser alerts, channels, rules, the delivery log, and staff's alert status. Thin views
over alerts.actions and alerts.selectors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from alerts import actions, selectors, tasks
from alerts.forms import BrowserAlertsForm, ChannelForm, QuietHoursForm, RuleForm
from alerts.models import AlertSettings, Channel, Rule

LOG_PAGE_SIZE = 50


def _own_channel(request: HttpRequest, channel_id: int) -> Channel:
    return get_object_or_404(Channel, id=channel_id, user=request.user)


@login_required
def alert_settings(request: HttpRequest) -> HttpResponse:
    """Browser alerts (notification and sound on open pages), and the way to the other channels."""
    current = selectors.browser_alerts(request.user)
    _, rule = actions.browser_channel_and_rule(request.user)
    initial = {
        "desktop_notifications": current.desktop_notifications,
        "sound": current.sound,
        "min_usd": rule.min_usd if rule else current.min_usd,
        "scope": rule.wallets if rule and rule.wallets != Rule.Wallets.CHOSEN else current.scope,
    }
    form = BrowserAlertsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions.set_browser_alerts(
            request.user,
            desktop=data["desktop_notifications"],
            sound=data["sound"],
            min_usd=data["min_usd"],
            scope=data["scope"],
        )
        messages.success(request, "Alert settings saved.")
        return redirect("alert_settings")
    return render(request, "alerts/browser.html", {"form": form})


@login_required
def channels(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        channel, shown = actions.add_channel(request.user, data["kind"], data["label"], data["target"], data["secret"])
        if channel.kind == Channel.Kind.WEBHOOK and shown:
            messages.success(request, f"Webhook added. Its signing secret (shown once): {shown}")
        elif channel.kind == Channel.Kind.TELEGRAM:
            messages.success(request, "Telegram channel added: open the link beside it and press Start in Telegram.")
        else:
            messages.success(request, f"{channel.display_name} added.")
        return redirect("alert_channels")
    settings_row = AlertSettings.objects.filter(user=request.user).first() or AlertSettings(user=request.user)
    user_channels = list(Channel.objects.filter(user=request.user).prefetch_related("telegram_links"))
    links = {}
    for channel in user_channels:
        if channel.kind == Channel.Kind.TELEGRAM and channel.state == Channel.State.PENDING:
            usable = [link for link in channel.telegram_links.all() if link.usable()]
            links[channel.id] = actions.telegram_deep_link(usable[-1].code) if usable else None
    rows = [(channel, links.get(channel.id)) for channel in user_channels]
    context = {"form": form, "rows": rows, "quiet_form": QuietHoursForm(instance=settings_row)}
    return render(request, "alerts/channels.html", context)


@login_required
@require_POST
def quiet_hours(request: HttpRequest) -> HttpResponse:
    settings_row = AlertSettings.objects.filter(user=request.user).first() or AlertSettings(user=request.user)
    form = QuietHoursForm(request.POST, instance=settings_row)
    if form.is_valid():
        form.save()
        messages.success(request, "Quiet hours saved.")
    else:
        messages.error(request, "Quiet hours not saved: " + "; ".join(e for errs in form.errors.values() for e in errs))
    return redirect("alert_channels")


@login_required
@require_POST
def channel_test(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _own_channel(request, channel_id)
    if not channel.usable:
        messages.error(request, f"{channel.display_name} cannot send yet (link it first).")
        return redirect("alert_channels")
    with transaction.atomic():
        delivery_id = actions.send_test(channel)
        transaction.on_commit(lambda: tasks.enqueue_send(delivery_id))
    messages.success(request, f"Test message queued to {channel.display_name}: see the delivery log.")
    return redirect("alert_channels")


@login_required
@require_POST
def channel_link(request: HttpRequest, channel_id: int) -> HttpResponse:
    """A fresh one-time Telegram code (the old ones expire on their own)."""
    channel = _own_channel(request, channel_id)
    if channel.kind == Channel.Kind.TELEGRAM:
        actions.new_telegram_link(channel)
        Channel.objects.filter(id=channel.id).update(state=Channel.State.PENDING)
    return redirect("alert_channels")


@login_required
@require_POST
def channel_delete(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _own_channel(request, channel_id)
    actions.delete_channel(channel)
    messages.success(request, f"{channel.display_name} deleted.")
    return redirect("alert_channels")


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        rule.user = request.user
        rule.save()
        form.save_m2m()
        messages.success(request, "Rule added.")
        return redirect("alert_rules")
    user_rules = Rule.objects.filter(user=request.user).prefetch_related("channels", "chosen_wallets")
    return render(request, "alerts/rules.html", {"form": form, "rules": user_rules})


@login_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    get_object_or_404(Rule, id=rule_id, user=request.user).delete()
    messages.success(request, "Rule deleted.")
    return redirect("alert_rules")


@login_required
def log(request: HttpRequest) -> HttpResponse:
    """Every alert of the user's: what, where, status, attempts, and each step's time."""
    page = Paginator(selectors.delivery_log(request.user), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "alerts/log.html", {"page": page})


@login_required
@require_POST
def notices_dismiss(request: HttpRequest) -> HttpResponse:
    actions.dismiss_notices(request.user)
    if request.htmx:
        return render(request, "alerts/_notices.html", {"alert_notices": []})
    return redirect(request.POST.get("next") or "alert_channels")


@login_required
def status(request: HttpRequest) -> HttpResponse:
    """Staff only: alert latency per channel kind over the last hour, and what waits."""
    if not request.user.is_staff:
        raise PermissionDenied
    context = {"latency": selectors.latency_by_channel(), "backlog": selectors.alert_backlog()}
    return render(request, "alerts/status.html", context)
