"""`manage.py simulate_market`: run the local market simulator (Helius, Birdeye, DexScreener, Jupiter).

A thin wrapper around `simulator.server`: generates the history, prints one "listening" line,
serves until Ctrl-C or SIGTERM, then stops its threads and exits. Needs no database.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from simulator.market import DEFAULT_SEED
from simulator.server import SimulatorConfig, run


class Command(BaseCommand):
    help = "Serve a simulated Solana market: whale history, live trades, webhooks, prices (see simulator/)."
    requires_system_checks: list[str] = []  # no database, no app models: just a local HTTP server

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = SimulatorConfig()
        parser.add_argument("--host", default=defaults.host)
        parser.add_argument("--port", type=int, default=defaults.port)
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="same seed, same whales and history")
        parser.add_argument("--wallets", type=int, default=defaults.wallets)
        parser.add_argument("--tokens", type=int, default=defaults.tokens)
        parser.add_argument("--history-days", type=float, default=defaults.history_days)
        parser.add_argument(
            "--history-txs",
            type=int,
            default=defaults.history_txs,
            help="roughly how many transactions the history holds",
        )
        parser.add_argument(
            "--swaps-per-minute",
            type=float,
            default=defaults.swaps_per_minute,
            help="live swaps across all wallets (0: only /sim/trade)",
        )
        parser.add_argument(
            "--webhook-retry-seconds",
            type=float,
            default=defaults.webhook_retry_seconds,
            help="wait between webhook delivery retries (Helius: 60)",
        )
        parser.add_argument(
            "--no-episodes",
            dest="episodes",
            action="store_false",
            help="no staged whale episodes (clusters before pumps and rugs, distributions)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("wallets", "tokens", "history_txs"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        for name in ("history_days", "swaps_per_minute", "webhook_retry_seconds"):
            if options[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} must not be negative")
        config = SimulatorConfig(
            host=options["host"],
            port=options["port"],
            seed=options["seed"],
            wallets=options["wallets"],
            tokens=options["tokens"],
            history_days=options["history_days"],
            history_txs=options["history_txs"],
            swaps_per_minute=options["swaps_per_minute"],
            webhook_retry_seconds=options["webhook_retry_seconds"],
            episodes=options["episodes"],
        )
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            run(config, announce=self._announce, stop=stop)
        except OSError as error:  # the port is taken, the host is wrong
            raise CommandError(f"cannot serve on {config.host}:{config.port}: {error}") from None
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _announce(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
