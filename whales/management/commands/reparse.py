"""`manage.py reparse`: rebuild swaps from the stored raw transactions after a parser fix."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import TextField
from django.db.models.functions import Cast

from whales.books.booking import positions_rewritten
from whales.ingestion.reparse import ReparseResult, reparse
from whales.models import RawTransaction
from whales.solana import InvalidAddress, validate_solana_address

BATCH = 500


class Command(BaseCommand):
    help = "Re-run the parser over every stored raw transaction (or one wallet's); fix swaps, transfers and P&L."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wallet", help="only transactions that involve this address")

    def handle(self, *args: Any, wallet: str | None, **options: Any) -> None:
        raw = RawTransaction.objects.order_by("id")
        if wallet:
            try:
                validate_solana_address(wallet)
            except InvalidAddress as error:
                raise CommandError(f"--wallet: {error}")
            raw = raw.annotate(text=Cast("payload", TextField())).filter(text__contains=wallet)
        total = raw.count()
        result = ReparseResult()
        last_id = 0
        while True:
            batch = list(raw.filter(id__gt=last_id)[:BATCH])
            if not batch:
                break
            last_id = batch[-1].id
            reparse(batch, result)
            self.stdout.write(f"  {result.transactions}/{total} transactions", ending="\r")
        positions_rewritten(result.changed_pairs)
        self.stdout.write(
            f"Reparsed {result.transactions} transactions: {result.created} swaps and transfers added, "
            f"{result.updated} changed, {result.deleted} removed; {len(result.changed_pairs)} positions replayed."
        )
        for line in result.unreadable:
            self.stderr.write(f"unreadable: {line}")
