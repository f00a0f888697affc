"""`manage.py helius_webhook sync`: make our Helius webhook watch exactly the active tracked wallets."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from providers.helius import HeliusClient, HeliusError
from whales.ingestion import sources


class Command(BaseCommand):
    help = "Register or update the Helius webhook (enhanced, ANY) for every active tracked wallet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["sync", "show"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if not settings.HELIUS_WEBHOOK_SECRET:
            raise CommandError("HELIUS_WEBHOOK_SECRET is not set: Helius must send a secret we can check.")
        try:
            with HeliusClient.from_settings() as client:
                if action == "show":
                    for webhook in client.list_webhooks():
                        addresses = webhook.get("accountAddresses") or []
                        self.stdout.write(
                            f"{webhook.get('webhookID')}  {webhook.get('webhookURL')}  {len(addresses)} addresses"
                        )
                    return
                result = sources.sync_webhook(client)
        except HeliusError as error:
            raise CommandError(str(error))
        self.stdout.write(
            f"Webhook {result.webhook_id} → {settings.HELIUS_WEBHOOK_URL} watches {result.addresses} wallet(s)."
        )
        for address, why in result.refused:
            self.stderr.write(f"refused {address!r}: {why}")
        if result.refused:
            raise CommandError(f"{len(result.refused)} tracked address(es) are invalid and were left out (see above).")
