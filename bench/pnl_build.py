"""bench/pnl's database building: wallets, tokens, swaps and transfers COPYed in as ingestion
would write them.

Imported by bench/pnl.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, TypeVar

from django.db import connection, models, transaction

from bench.pnl_market import MB, Config, Market, SwapRow, TransferRow, swaps_per_wallet, wallet_profile, wallet_trades
from whales.models import Swap, Token, TokenTransfer, TrackedWallet


class CopyTable:
    """COPY into a model's table: the given fields per row, every other column its model default.

    Defaults are evaluated once (one `created_at` for all rows). A NOT NULL column without a
    default must be given; a column with a database default is left to the database.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        opts = model._meta
        given = [opts.get_field(name) for name in fields]
        defaults = []
        for item in opts.concrete_fields:
            if item.primary_key or item.name in fields or item.has_db_default():
                continue
            value = item.get_default()
            if value is None and not item.null:
                raise ValueError(f"{model.__name__}.{item.name} is NOT NULL without a default: give it")
            defaults.append((item, value))
        quote = connection.ops.quote_name
        columns = ", ".join(quote(item.column) for item in [*given, *(item for item, _ in defaults)])
        self.statement = f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN"
        self.constants = tuple(value for _, value in defaults)

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        """Write `rows` in one COPY on Django's connection; returns how many."""
        count, constants = 0, self.constants
        with connection.cursor() as cursor, cursor.copy(self.statement) as copy:
            for row in rows:
                copy.write_row((*row, *constants) if constants else row)
                count += 1
        return count


def create_wallets(config: Config, indexes: range) -> dict[int, int]:
    """TrackedWallets for the run's wallet numbers `indexes`; returns number → id."""
    profiles = {index: wallet_profile(config.seed, index) for index in indexes}
    now = datetime.fromtimestamp(config.end, UTC)
    table = CopyTable(TrackedWallet, ["address", "label", "tags", "is_active", "backfill_state", "created_at"])
    table.write(
        (address, label, tags, index % 50 != 7, "done", now) for index, (address, label, tags) in profiles.items()
    )
    ids = dict(TrackedWallet.objects.filter(address__in=[p[0] for p in profiles.values()]).values_list("address", "id"))
    return {index: ids[address] for index, (address, _, _) in profiles.items()}


def create_tokens(market: Market) -> dict[int, int]:
    """Token rows for the market's mints, with their latest price; returns token index → id."""
    now = datetime.fromtimestamp(market.end, UTC)
    table = CopyTable(Token, ["mint", "symbol", "name", "decimals", "price_usd", "price_source", "price_updated_at"])
    table.write(
        (
            mint,
            market.symbols[i],
            f"{market.symbols[i]} token",
            market.decimals[i],
            market.latest_price(i),
            "birdeye",
            now,
        )
        for i, mint in enumerate(market.mints)
    )
    ids = dict(Token.objects.filter(mint__in=market.mints).values_list("mint", "id"))
    return {i: ids[mint] for i, mint in enumerate(market.mints)}


_Row = TypeVar("_Row")


# The generated columns, then `in_books`: trades are stored as ingestion leaves them, booked when valued.
SWAP_FIELDS = (
    "wallet token signature side token_amount quote_mint quote_amount price_in_quote usd_price usd_value "
    "block_time slot source position arrived_via ingested_at in_books"
).split()
TRANSFER_FIELDS = (
    "wallet token signature direction amount usd_price block_time slot source arrived_via ingested_at in_books".split()
)


@dataclass
class LoadResult:
    swaps: int
    transfers: int
    seconds: float
    analyze_s: float
    table_mb: float
    indexes_mb: float


def with_progress(rows: Iterable[_Row], total: int, started: float) -> Iterator[_Row]:
    """`rows`, printing how far along they are every tenth of `total`."""
    step = max(1, total // 10)
    for count, row in enumerate(rows, 1):
        yield row
        if count % step == 0:
            print(f"    loading: {count:,} of {total:,} swaps, {time.perf_counter() - started:.0f} s", flush=True)


def load_swaps(config: Config) -> LoadResult:
    """Wallets, tokens and every swap as rows, written in block-time order as ingestion would."""
    market = config.market()
    counts = swaps_per_wallet(config.seed, config.wallets, config.swaps)
    started = time.perf_counter()
    with transaction.atomic():
        wallet_ids = create_wallets(config, range(config.wallets))
        token_ids = create_tokens(market)
        every_trade = heapq.merge(
            *(wallet_trades(market, config.seed, wallet, count) for wallet, count in enumerate(counts)),
            key=attrgetter("block_time"),
        )
        transfers: list[TransferRow] = []  # a few thousand: written after the swaps, in the same order

        def swap_rows() -> Iterator[tuple]:
            for row in every_trade:
                if type(row) is SwapRow:
                    yield (wallet_ids[row.wallet], token_ids[row.token], *row[2:], row.usd_price is not None)
                else:
                    transfers.append(row)

        swaps = CopyTable(Swap, SWAP_FIELDS).write(with_progress(swap_rows(), config.swaps, started))
        CopyTable(TokenTransfer, TRANSFER_FIELDS).write(
            (
                wallet_ids[row.wallet],
                token_ids[row.token],
                *row[2:],
                row.direction == "out" or row.usd_price is not None,
            )
            for row in transfers
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TrackedWallet._meta.db_table} AS w SET last_swap_at = s.last"
                f" FROM (SELECT wallet_id, max(block_time) AS last FROM {Swap._meta.db_table} GROUP BY wallet_id) AS s"
                " WHERE s.wallet_id = w.id"
            )
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Swap._meta.db_table}")
        cursor.execute(f"ANALYZE {TrackedWallet._meta.db_table}")
        cursor.execute(f"ANALYZE {Token._meta.db_table}")
        cursor.execute(
            "SELECT pg_table_size(%s::regclass), pg_indexes_size(%s::regclass)",
            [Swap._meta.db_table, Swap._meta.db_table],
        )
        table_bytes, index_bytes = cursor.fetchone()
    return LoadResult(swaps, len(transfers), seconds, time.perf_counter() - started, table_bytes / MB, index_bytes / MB)
