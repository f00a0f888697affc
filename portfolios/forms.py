from django import forms

from portfolios.models import AlertPreference


class AlertPreferenceForm(forms.ModelForm):
    class Meta:
        model = AlertPreference
        fields = ["desktop_notifications", "sound", "min_usd", "scope"]
        labels = {"desktop_notifications": "Desktop notifications", "sound": "Play a sound"}
        widgets = {"scope": forms.RadioSelect}
        help_texts = {
            "desktop_notifications": "Your browser asks for permission the first time.",
            "min_usd": "Alert on swaps of at least this many US dollars.",
            "sound": "Browsers let a page play sound only after you click or type on it once.",
        }
