"""Each user's browser alert preference (portfolios.AlertPreference) becomes an in-app channel and the
swap rule that routes to it; the reverse puts the preference back from them."""

from django.db import migrations

BROWSER_RULE = "Browser alerts"


def forwards(apps, schema_editor):
    AlertPreference = apps.get_model("portfolios", "AlertPreference")
    Channel = apps.get_model("alerts", "Channel")
    Rule = apps.get_model("alerts", "Rule")
    for preference in AlertPreference.objects.all():
        channel = Channel.objects.create(
            user_id=preference.user_id,
            kind="inapp",
            label="This browser",
            config={"desktop": preference.desktop_notifications, "sound": preference.sound},
        )
        rule = Rule.objects.create(
            user_id=preference.user_id,
            name=BROWSER_RULE,
            is_active=preference.desktop_notifications or preference.sound,
            trigger="swaps",
            wallets=preference.scope,
            min_usd=preference.min_usd,
        )
        rule.channels.add(channel)


def backwards(apps, schema_editor):
    AlertPreference = apps.get_model("portfolios", "AlertPreference")
    Rule = apps.get_model("alerts", "Rule")
    for rule in Rule.objects.filter(name=BROWSER_RULE, trigger="swaps").prefetch_related("channels"):
        channel = next((c for c in rule.channels.all() if c.kind == "inapp"), None)
        if channel is None:
            continue
        AlertPreference.objects.update_or_create(
            user_id=rule.user_id,
            defaults={
                "desktop_notifications": bool(channel.config.get("desktop")) and rule.is_active,
                "sound": bool(channel.config.get("sound")) and rule.is_active,
                "min_usd": rule.min_usd,
                "scope": rule.wallets if rule.wallets in ("all", "followed") else "followed",
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_channels_rules_deliveries"),
        ("portfolios", "0001_follows_and_alerts"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
