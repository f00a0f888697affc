"""Alert preferences now live in the alerts app (copied there by its migration first)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("portfolios", "0002_wallet_notes_and_devices"),
        ("alerts", "0002_browser_alerts_from_portfolios"),
    ]

    operations = [migrations.DeleteModel(name="AlertPreference")]
