"""`manage.py recompute_pnl`: rebuild positions, cycles, realizations and stats from the stored trades,
after a change to the metrics or a bulk import of swaps."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from whales.books import recompute
from whales.models import TrackedWallet
from whales.solana import InvalidAddress, validate_solana_address


class Command(BaseCommand):
    help = "Rebuild every wallet's P&L (or only --wallet's) from its stored swaps and transfers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--wallet",
            action="append",
            dest="wallets",
            metavar="ADDRESS",
            help="only this tracked wallet; repeat for several",
        )

    def handle(self, *args: Any, wallets: list[str] | None, **options: Any) -> None:
        wallet_ids = None if wallets is None else self._tracked(wallets)
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  {done:,} of {total:,} wallets, {time.perf_counter() - started:.1f} s")

        summary = recompute.recompute_all(wallet_ids, progress=progress)
        rate = f"{summary.swaps / summary.seconds:,.0f}" if summary.seconds else "-"
        self.stdout.write(
            f"Recomputed P&L of {summary.wallets:,} wallets from {summary.swaps:,} swaps and {summary.transfers:,}"
            f" transfers: {summary.positions:,} positions, {summary.cycles:,} cycles, {summary.realizations:,}"
            f" realizations in {summary.seconds:.1f} s ({rate} swaps/s; read {summary.read_seconds:.1f} s,"
            f" replay {summary.replay_seconds:.1f} s, write {summary.write_seconds:.1f} s,"
            f" stats {summary.stats_seconds:.1f} s)."
        )

    def _tracked(self, addresses: list[str]) -> list[int]:
        """The ids of these tracked wallets; CommandError naming the first address that is not one."""
        for address in addresses:
            try:
                validate_solana_address(address)
            except InvalidAddress as error:
                raise CommandError(f"--wallet {address!r}: {error}")
        ids = dict(TrackedWallet.objects.filter(address__in=addresses).values_list("address", "id"))
        for address in addresses:
            if address not in ids:
                raise CommandError(f"--wallet {address}: not a tracked wallet.")
        return list(ids.values())
