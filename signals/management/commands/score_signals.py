"""`manage.py score_signals FILE`: the whale-cluster and big-trade signals of a file of swaps, as JSON.

FILE is `{"swaps": [{"t", "wallet", "token", "side", "usd"}, ...], "wallets": {WALLET: {"win_rate",
"cycles"}}}` ("wallets" optional). Swaps are taken in order of `t`, ties in file order, with the
default parameters of SIGNALS.md v1. Prints `{"signals": [...]}`: one entry per signal in the order
they fired, each as it stands at the end of the file (a signal that wallets joined, or a big trade
that grew, is printed once, with its final wallets, score and reasons, and its first `fired_at`).
Bad input ends with exit code 2 and one line on stderr.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signals.scoring import SIDES, Detector, Signal, Swap, WalletStats, decimal_text

BAD_INPUT = 2
# Far beyond any real swap, and it keeps exact sums of adversarial input to a few hundred digits.
_MAX_MAGNITUDE = 40
_MAX_DIGITS = 60


class Command(BaseCommand):
    help = "Print, as JSON, the whale-cluster and big-trade signals a file of swaps fires."
    requires_system_checks: list[str] = []  # a pure file-to-stdout tool: no checks, no database

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", help='JSON file: {"swaps": [{"t", "wallet", "token", "side", "usd"}], "wallets": {...}}'
        )

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        swaps, wallets = _read(Path(file))
        signals: dict[tuple, Signal] = {}  # by key, in firing order; each event carries the whole signal
        for event in Detector().process(swaps, wallets):
            signals[event.signal.key] = event.signal
        self.stdout.write(json.dumps({"signals": [_entry(signal) for signal in signals.values()]}, indent=2))


def _entry(signal: Signal) -> dict[str, Any]:
    return {
        "kind": signal.kind,
        "token": signal.token,
        "fired_at": signal.fired_at,
        "wallets": signal.wallet_addresses(),
        "score": signal.score,
        "reasons": signal.reasons,
    }


def _read(path: Path) -> tuple[list[Swap], dict[str, WalletStats]]:
    try:
        data = json.loads(path.read_bytes(), parse_float=Decimal, parse_constant=_non_finite)
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}", returncode=BAD_INPUT)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CommandError(f"{path} is not valid JSON: {_one_line(error)}", returncode=BAD_INPUT)
    if not isinstance(data, dict) or not isinstance(data.get("swaps"), list):
        raise CommandError(f'{path} should hold an object with a "swaps" array', returncode=BAD_INPUT)
    swaps = []
    for index, item in enumerate(data["swaps"]):
        try:
            swaps.append(_swap(index, item))
        except ValueError as error:
            raise CommandError(f"{path}: swaps[{index}]: {error}", returncode=BAD_INPUT)
    wallets: dict[str, WalletStats] = {}
    records = data.get("wallets", {})
    if not isinstance(records, dict):
        raise CommandError(f'{path}: "wallets" should be an object, got {_type_name(records)}', returncode=BAD_INPUT)
    for wallet, record in records.items():
        try:
            wallets[wallet] = _wallet_stats(record)
        except ValueError as error:
            raise CommandError(f"{path}: wallets[{_show(wallet)}]: {error}", returncode=BAD_INPUT)
    return swaps, wallets


def _swap(index: int, item: Any) -> Swap:
    """One input swap (its id is its index); ValueError with a one-line reason when it breaks the contract."""
    if not isinstance(item, dict):
        raise ValueError(f"expected an object, got {_type_name(item)}")
    missing = [key for key in ("t", "wallet", "token", "side", "usd") if key not in item]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    t = item["t"]
    if type(t) is not int:
        raise ValueError(f"t must be an integer (unix seconds), got {_show(t)}")
    if abs(t) >= 10**_MAX_MAGNITUDE:
        raise ValueError(f"t is out of range, got {t}")
    for key in ("wallet", "token"):
        if not isinstance(item[key], str) or not item[key]:
            raise ValueError(f"{key} must be a non-empty string, got {_show(item[key])}")
    if item["side"] not in SIDES:
        raise ValueError(f'side must be "buy" or "sell", got {_show(item["side"])}')
    usd = _number(item["usd"], "usd")
    if usd < 0:
        raise ValueError(f"usd must not be negative, got {_show(usd)}")
    return Swap(index, t, item["wallet"], item["token"], item["side"], usd)


def _wallet_stats(record: Any) -> WalletStats:
    if not isinstance(record, dict):
        raise ValueError(f"expected an object, got {_type_name(record)}")
    missing = [key for key in ("win_rate", "cycles") if key not in record]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    cycles = record["cycles"]
    if type(cycles) is not int or cycles < 0:
        raise ValueError(f"cycles must be an integer ≥ 0, got {_show(cycles)}")
    if record["win_rate"] is None:
        return WalletStats(None, cycles)
    win_rate = _number(record["win_rate"], "win_rate")
    if not 0 <= win_rate <= 1:
        raise ValueError(f"win_rate must be between 0 and 1, got {_show(win_rate)}")
    return WalletStats(win_rate, cycles)


def _number(value: Any, key: str) -> Decimal:
    if type(value) is int:  # bool is an int subclass and is refused here
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise ValueError(f"{key} must be a number, got {_show(value)}")
    if not value.is_finite():
        raise ValueError(f"{key} must be a finite number, got {value}")
    if value and (abs(value.adjusted()) > _MAX_MAGNITUDE or len(value.as_tuple().digits) > _MAX_DIGITS):
        raise ValueError(f"{key} is out of range (at most {_MAX_DIGITS} digits, 1E±{_MAX_MAGNITUDE}), got {value}")
    return value


def _non_finite(name: str) -> Decimal:
    """JSON has no NaN or Infinity; Python's reader accepts them, so they come through as non-finite numbers."""
    return Decimal(name.replace("Infinity", "Inf"))


def _show(value: Any) -> str:
    """`value` as it looked in the JSON, shortened to fit a one-line message."""
    text = decimal_text(value) if isinstance(value, Decimal) and value.is_finite() else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
