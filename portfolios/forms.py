from django import forms

from portfolios.models import AlertPreference


class AlertPreferenceForm(forms.ModelForm):
    class Meta:
        model = AlertPreference
        fields = ["desktop_notifications", "sound", "min_usd", "scope"]
        help_texts = {
            "desktop_notifications": "Your browser asks for permission the first time.",
            "min_usd": "Alert on swaps of at least this many US dollars.",
        }
