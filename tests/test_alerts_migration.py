"""Today's browser alert preference moves from portfolios into the alerts app, and back if rolled back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from alerts.selectors import browser_alerts

BEFORE = [("portfolios", "0001_follows_and_alerts"), ("alerts", "0001_channels_rules_deliveries")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_a_browser_alert_preference_becomes_an_in_app_channel_and_its_rule(alice, bob):
    old = migrate(BEFORE)
    preference = old.get_model("portfolios", "AlertPreference")
    preference.objects.create(user_id=alice.id, desktop_notifications=True, sound=False, min_usd=2500, scope="followed")
    preference.objects.create(user_id=bob.id, desktop_notifications=False, sound=False)
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate(leaves)
        alices = browser_alerts(alice)
        assert (alices.enabled, alices.desktop_notifications, alices.sound) == (True, True, False)
        assert (alices.min_usd, alices.scope) == (Decimal("2500.00"), "followed")
        assert browser_alerts(bob).enabled is False

        back = migrate(BEFORE)
        restored = back.get_model("portfolios", "AlertPreference").objects.get(user_id=alice.id)
        assert (restored.desktop_notifications, restored.min_usd, restored.scope) == (
            True,
            Decimal("2500.00"),
            "followed",
        )
    finally:
        migrate(leaves)
