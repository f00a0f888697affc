"""`manage.py load_demo_alerts`: give the demo login alerts on Telegram and Discord, both played by the
market simulator (what `make run` does without real keys). The Telegram chat is linked directly, as
if the demo user had pressed Start on the deep link; already set up, nothing changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from alerts import actions
from alerts.models import Channel, Rule

DEMO_CHAT_ID = 100200300
DEMO_DISCORD_URL = "https://discord.com/api/webhooks/100200300/aura-demo-webhook"
DEMO_RULE = "Demo: big whale swaps"


class Command(BaseCommand):
    help = "Give the demo user a Telegram and a Discord alert channel (the simulator plays both) and a rule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--min-usd", type=Decimal, default=Decimal("5000"))

    def handle(self, *args: Any, username: str, min_usd: Decimal, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            self.stdout.write(f"No user {username!r}: demo alerts not set up.")
            return
        if Rule.objects.filter(user=user, name=DEMO_RULE).exists():
            self.stdout.write("Demo alerts: already set up.")
            return
        telegram, _ = actions.add_channel(user, Channel.Kind.TELEGRAM, "Demo Telegram")
        actions.link_telegram(telegram.telegram_links.get().code, DEMO_CHAT_ID)
        discord, _ = actions.add_channel(user, Channel.Kind.DISCORD, "Demo Discord", DEMO_DISCORD_URL)
        rule = Rule.objects.create(user=user, name=DEMO_RULE, min_usd=min_usd)
        rule.channels.set([telegram, discord])
        self.stdout.write(
            f"Demo alerts: swaps of at least ${min_usd:,} go to Telegram (chat {DEMO_CHAT_ID}) and Discord, "
            "both played by the market simulator (GET /sim/messages shows what arrived)."
        )
