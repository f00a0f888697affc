from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from alerts.messages import discord_webhook_path, webhook_url_path
from alerts.models import AlertSettings, Channel, Rule
from whales.models import TrackedWallet
from whales.solana import InvalidAddress, validate_solana_address


class BrowserAlertsForm(forms.Form):
    """Notifications and sound in open AURA pages (the in-app channel and its rule)."""

    desktop_notifications = forms.BooleanField(
        label="Desktop notifications", required=False, help_text="Your browser asks for permission the first time."
    )
    sound = forms.BooleanField(
        label="Play a sound",
        required=False,
        help_text="Browsers let a page play sound only after you click or type on it once.",
    )
    min_usd = forms.DecimalField(
        label="minimum swap size (USD)",
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        initial=Decimal("10000"),
        help_text="Alert on swaps of at least this many US dollars.",
    )
    scope = forms.ChoiceField(
        choices=[(Rule.Wallets.ALL, Rule.Wallets.ALL.label), (Rule.Wallets.FOLLOWED, Rule.Wallets.FOLLOWED.label)],
        widget=forms.RadioSelect,
        initial=Rule.Wallets.ALL,
    )


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=[c for c in Channel.Kind.choices if c[0] != Channel.Kind.INAPP])
    label = forms.CharField(max_length=100, required=False, help_text="Your name for it.")
    target = forms.CharField(
        max_length=500,
        required=False,
        label="Address or URL",
        help_text="Email: the address. Discord: the channel's webhook URL. Webhook: the URL to POST to. "
        "Telegram: leave empty, you link a chat next.",
    )
    secret = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.PasswordInput,
        help_text="Webhook only: the signing secret (empty: AURA makes one and shows it once).",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        target = (data.get("target") or "").strip()
        problem = target_problem(data.get("kind") or "", target)
        if problem:
            self.add_error("target", problem)
        data["target"] = target
        return data


def target_problem(kind: str, target: str) -> str | None:
    """Why `target` is no address for a channel of `kind` (None when it is one)."""
    try:
        if kind == Channel.Kind.EMAIL:
            forms.EmailField().clean(target)
        elif kind == Channel.Kind.DISCORD:
            discord_webhook_path(target)
        elif kind == Channel.Kind.WEBHOOK:
            webhook_url_path(target)
    except (ValueError, forms.ValidationError) as error:
        return error.messages[0] if isinstance(error, forms.ValidationError) else str(error)
    return None


class RuleForm(forms.ModelForm):
    signal_kinds_text = forms.CharField(
        label="Signal kinds",
        required=False,
        help_text="Comma-separated, e.g. whale_accumulation, momentum. Empty: all.",
    )
    signal_mints_text = forms.CharField(
        label="Signal tokens (mints)", required=False, help_text="Comma-separated. Empty: all."
    )

    class Meta:
        model = Rule
        fields = [
            "name",
            "trigger",
            "wallets",
            "chosen_wallets",
            "side",
            "min_usd",
            "token_mint",
            "min_score",
            "channels",
        ]
        widgets = {"channels": forms.CheckboxSelectMultiple, "trigger": forms.RadioSelect}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = Channel.objects.filter(user=user)
        self.fields["channels"].required = True
        self.fields["chosen_wallets"].queryset = TrackedWallet.objects.filter(is_active=True).order_by("label")
        self.fields["chosen_wallets"].required = False

    def clean_token_mint(self) -> str:
        return _mint(self.cleaned_data.get("token_mint") or "")

    def clean_signal_kinds_text(self) -> list[str]:
        return [k.strip() for k in (self.cleaned_data.get("signal_kinds_text") or "").split(",") if k.strip()]

    def clean_signal_mints_text(self) -> list[str]:
        text = self.cleaned_data.get("signal_mints_text") or ""
        return [_mint(m.strip()) for m in text.split(",") if m.strip()]

    def save(self, commit: bool = True) -> Rule:
        rule = super().save(commit=False)
        rule.signal_kinds = self.cleaned_data["signal_kinds_text"]
        rule.signal_mints = self.cleaned_data["signal_mints_text"]
        if commit:
            rule.save()
            self.save_m2m()
        return rule


def _mint(value: str) -> str:
    if not value:
        return ""
    try:
        return validate_solana_address(value.strip())
    except InvalidAddress as error:
        raise forms.ValidationError(str(error)) from None


class QuietHoursForm(forms.ModelForm):
    class Meta:
        model = AlertSettings
        fields = ["time_zone", "quiet_from", "quiet_until"]
        widgets = {
            "quiet_from": forms.TimeInput(attrs={"type": "time"}),
            "quiet_until": forms.TimeInput(attrs={"type": "time"}),
        }
