"""`manage.py parse_swaps FILE [--wallet ADDRESS]`: print the swaps in saved Helius transactions.

FILE holds one enhanced transaction or a JSON array of them (a webhook body, a history page).
Prints a JSON array of swaps in `ParsedSwap.as_json()` shape. Without --wallet each transaction
is read for its own fee payer. Bad input ends with exit code 2 and one line on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from whales.ingestion.parsing import MalformedTransaction, ParsedSwap, fee_payer, parse_swaps
from whales.solana import InvalidAddress, validate_solana_address

BAD_INPUT = 2


class Command(BaseCommand):
    help = "Print, as JSON, the swaps a wallet made in a file of Helius enhanced transactions."
    requires_system_checks: list[str] = []  # a pure file-to-stdout tool: no checks, no database

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSON file: one enhanced transaction or an array of them")
        parser.add_argument("--wallet", help="the tracked wallet (default: each transaction's fee payer)")

    def handle(self, *args: Any, file: str, wallet: str | None, **options: Any) -> None:
        if wallet is not None:
            wallet = _checked_wallet(wallet)
        swaps: list[ParsedSwap] = []
        for index, tx in enumerate(_transactions(Path(file))):
            try:
                # Parsed even without a fee payer to read for, so a malformed one is still refused.
                swaps += parse_swaps(tx, wallet or fee_payer(tx) or "")
            except MalformedTransaction as error:
                raise CommandError(f"{file}: transaction {index}: {error}", returncode=BAD_INPUT)
        self.stdout.write(json.dumps([swap.as_json() for swap in swaps], indent=2))


def _checked_wallet(wallet: str) -> str:
    try:
        return validate_solana_address(wallet)
    except InvalidAddress as error:
        raise CommandError(f"--wallet: {error}", returncode=BAD_INPUT)


def _transactions(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_bytes())
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}", returncode=BAD_INPUT)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CommandError(f"{path} is not valid JSON: {error}", returncode=BAD_INPUT)
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    raise CommandError(f"{path} should hold a transaction object or an array of them", returncode=BAD_INPUT)
