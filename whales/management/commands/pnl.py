"""`manage.py pnl FILE`: FIFO P&L of a list of trades, as JSON (METRICS.md v1).

FILE is `{"trades": [{"t", "side", "token", "amount", "price", "fee"}, ...]}` with side "buy" or
"sell", price and fee in quote. Trades are applied in the given order, not sorted, and their index
in the list is their id in the output (`sells[].index`, `matched`, `cycles[].opened_index`).
Numbers are read as exact decimals and printed as plain decimal strings. Bad input ends with exit
code 2 and one line on stderr.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from whales.books.pnl import CycleClosed, Ledger, Trade, cycle_win_rate, replay, sell_win_rate
from whales.ingestion.parsing import decimal_string

BAD_INPUT = 2
CLI_SIDES = ("buy", "sell")
# Far beyond any real trade, and it keeps exact sums of adversarial input to a few hundred digits.
_MAX_MAGNITUDE = 40
_MAX_DIGITS = 60


class Command(BaseCommand):
    help = "Print, as JSON, the FIFO realized P&L, position cycles and win rates of a file of trades."
    requires_system_checks: list[str] = []  # a pure file-to-stdout tool: no checks, no database

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help='JSON file: {"trades": [{"t", "side", "token", "amount", "price", "fee"}]}')

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        trades = _read_trades(Path(file))
        ledger = replay(trades, check_order=False)  # the contract: in the given order
        self.stdout.write(json.dumps(report(ledger), indent=2))


def report(ledger: Ledger) -> dict[str, Any]:
    """The CLI's JSON shape for a ledger whose trade keys are input indices."""
    sells = ledger.sells()
    closed = ledger.closed_cycles()
    cycles = [_closed_cycle(cycle) for cycle in closed] + [
        {
            "token": book.token,
            "opened_index": book.cycle.opened_key,
            "closed_index": None,
            "realized_pnl": decimal_string(book.cycle.realized_pnl),
            "complete": book.cycle.complete,
        }
        for book in ledger.books.values()
        if book.cycle is not None
    ]
    cycles.sort(key=lambda cycle: cycle["opened_index"])
    return {
        "realized_pnl": decimal_string(ledger.realized_pnl),
        "tokens": {
            token: {
                "realized_pnl": decimal_string(book.realized_pnl),
                "remaining_amount": decimal_string(book.holdings),
                "remaining_cost_basis": decimal_string(book.cost_basis),
                "missing_amount": decimal_string(book.missing_amount),
            }
            for token, book in ledger.books.items()
        },
        "sells": [
            {
                "index": sell.key,
                "token": sell.token,
                "amount": decimal_string(sell.amount),
                "proceeds": decimal_string(sell.proceeds),
                "cost_basis": decimal_string(sell.cost_basis),
                "realized_pnl": decimal_string(sell.realized_pnl),
                "missing_amount": decimal_string(sell.missing_amount),
                "matched": [[buy_index, decimal_string(amount)] for buy_index, amount in sell.matched],
            }
            for sell in sells
        ],
        "cycles": cycles,
        "win_rate": {
            "cycles": _rate(cycle_win_rate(closed).rate),
            "sells": _rate(sell_win_rate(sells).rate),
        },
    }


def _closed_cycle(cycle: CycleClosed) -> dict[str, Any]:
    return {
        "token": cycle.token,
        "opened_index": cycle.opened_key,
        "closed_index": cycle.closed_key,
        "realized_pnl": decimal_string(cycle.realized_pnl),
        "complete": cycle.complete,
    }


def _rate(rate: Decimal | None) -> str | None:
    return None if rate is None else decimal_string(rate)


def _read_trades(path: Path) -> list[Trade]:
    try:
        data = json.loads(path.read_bytes(), parse_float=Decimal, parse_int=Decimal, parse_constant=Decimal)
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}", returncode=BAD_INPUT)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CommandError(f"{path} is not valid JSON: {error}", returncode=BAD_INPUT)
    if not isinstance(data, dict) or not isinstance(data.get("trades"), list):
        raise CommandError(f'{path} should hold an object with a "trades" array', returncode=BAD_INPUT)
    trades = []
    for index, item in enumerate(data["trades"]):
        try:
            trades.append(_trade(index, item))
        except ValueError as error:
            raise CommandError(f"{path}: trades[{index}]: {error}", returncode=BAD_INPUT)
    return trades


def _trade(index: int, item: Any) -> Trade:
    """One input trade; ValueError with a one-line reason when it breaks the contract."""
    if not isinstance(item, dict):
        raise ValueError(f"expected an object, got {_type_name(item)}")
    missing = [key for key in ("t", "side", "token", "amount", "price", "fee") if key not in item]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    side = item["side"]
    if side not in CLI_SIDES:
        raise ValueError(f'side must be "buy" or "sell", got {_show(side)}')
    token = item["token"]
    if not isinstance(token, str) or not token:
        raise ValueError(f"token must be a non-empty string, got {_show(token)}")
    amount = _number(item, "amount")
    if amount <= 0:
        raise ValueError(f"amount must be positive, got {_show(amount)}")
    price = _number(item, "price")
    fee = _number(item, "fee")
    for name, value in (("price", price), ("fee", fee)):
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {_show(value)}")
    return Trade(index, _number(item, "t"), side, token, amount, price, fee)


def _number(item: dict, key: str) -> Decimal:
    value = item[key]
    if not isinstance(value, Decimal):
        raise ValueError(f"{key} must be a number, got {_show(value)}")
    if not value.is_finite():
        raise ValueError(f"{key} must be a finite number, got {value}")
    if value and (abs(value.adjusted()) > _MAX_MAGNITUDE or len(value.as_tuple().digits) > _MAX_DIGITS):
        raise ValueError(f"{key} is out of range (at most {_MAX_DIGITS} digits, 1E±{_MAX_MAGNITUDE}), got {value}")
    return value


def _show(value: Any) -> str:
    """`value` as it looked in the JSON, shortened to fit a one-line message."""
    text = decimal_string(value) if isinstance(value, Decimal) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
