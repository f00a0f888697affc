"""`manage.py load_demo`: track the market simulator's whales (what `make run` does without a Helius key)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from simulator.market import DEFAULT_SEED, demo_wallets
from whales.wallets import import_wallets


class Command(BaseCommand):
    help = "Track the simulator's demo wallets (same seed as `simulate_market`); already tracked ones are kept."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--wallets", type=int, default=200)

    def handle(self, *args: Any, seed: int, wallets: int, **options: Any) -> None:
        rows = [
            (line, {"address": w.address, "label": w.label, "tags": ";".join(w.tags)})
            for line, w in enumerate(demo_wallets(seed, wallets), start=1)
        ]
        outcomes = import_wallets(rows)
        added = sum(o.status == "added" for o in outcomes)
        self.stdout.write(
            f"Demo wallets: {added} added, {len(outcomes) - added} already tracked; "
            "their history backfills in the background."
        )
