"""Tracked wallets, the tokens they trade, their swaps, and the raw transactions the swaps came from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.db.models.expressions import OrderBy
from django.utils import timezone
from django.utils.functional import cached_property

from whales.solana import USDC_MINT, USDT_MINT, WSOL_MINT, InvalidAddress, validate_solana_address

# What a base58 address can look like at all; the full check (32 bytes) is validate_address.
ADDRESS_SHAPE = r"^[1-9A-HJ-NP-Za-km-z]{32,44}$"
QUOTE_ASSETS = {WSOL_MINT: "SOL", USDC_MINT: "USDC", USDT_MINT: "USDT"}
AMOUNT = {"max_digits": 40, "decimal_places": 18}
PRICE = {"max_digits": 48, "decimal_places": 24}
USD = {"max_digits": 30, "decimal_places": 8}
# Rounding to a column's places needs room for all its digits: 40 of them for an amount of ten
# billion BONK, where the default context (28) would raise InvalidOperation.
_WIDE = Context(prec=100)


def round_amount(value: Decimal) -> Decimal:
    """`value` rounded to an amount column's places, as the column will store it."""
    return value.quantize(Decimal(1).scaleb(-AMOUNT["decimal_places"]), context=_WIDE)


def round_price(value: Decimal) -> Decimal:
    """`value` rounded to a price column's places, as the column will store it."""
    return value.quantize(Decimal(1).scaleb(-PRICE["decimal_places"]), context=_WIDE)


def round_usd(value: Decimal) -> Decimal:
    """`value` rounded to a USD column's places, as the column will store it."""
    return value.quantize(Decimal(1).scaleb(-USD["decimal_places"]), context=_WIDE)


def validate_address(value: str) -> None:
    try:
        validate_solana_address(value)
    except InvalidAddress as error:
        raise ValidationError(str(error), code="invalid_address") from None


class BackfillState(models.TextChoices):
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"


def short_address(address: str) -> str:
    """ "AbCd…WxYz": the start and end of an address, where a wallet has no label."""
    return f"{address[:4]}…{address[-4:]}"


class TrackedWallet(models.Model):
    address = models.CharField(max_length=44, unique=True, validators=[validate_address])
    label = models.CharField(max_length=100, blank=True)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField("active", default=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    # Ingestion state. Polling fetches what is newer than newest_signature; backfill pages back
    # from backfill_cursor until backfill_until. Both cursors move in the same database
    # transaction as the swaps they cover.
    newest_signature = models.CharField(max_length=100, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField("last successful poll", null=True, blank=True)
    last_swap_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    backfill_state = models.CharField(max_length=10, choices=BackfillState.choices, default=BackfillState.PENDING)
    backfill_cursor = models.CharField(max_length=100, blank=True)
    backfill_until = models.DateTimeField(null=True, blank=True)
    backfill_reached = models.DateTimeField(null=True, blank=True)
    backfill_transactions = models.PositiveIntegerField(default=0)
    backfill_started_at = models.DateTimeField(null=True, blank=True)
    backfill_finished_at = models.DateTimeField(null=True, blank=True)
    # A backfill the provider failed (down, refusing, rate-limiting) waits and tries again, longer
    # after each failure in a row (whales.ingestion.sources.backfill_retry_delay).
    backfill_failures = models.PositiveSmallIntegerField(default=0, help_text="failed attempts in a row")
    backfill_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["label", "address"]
        constraints = [
            models.CheckConstraint(condition=models.Q(address__regex=ADDRESS_SHAPE), name="wallet_address_is_base58"),
        ]
        indexes = [
            models.Index(fields=["next_poll_at"], condition=models.Q(is_active=True), name="wallet_due_for_poll"),
            models.Index(fields=["is_active", "-last_swap_at"], name="wallet_active_recent"),
        ]

    def __str__(self) -> str:
        return self.label or self.short_address

    @property
    def short_address(self) -> str:
        return short_address(self.address)

    def backfill_progress(self) -> int | None:
        """Percent of the backfill window covered (100 when done), or None before it has started."""
        if self.backfill_state == BackfillState.DONE:
            return 100
        if not (self.backfill_started_at and self.backfill_until and self.backfill_reached):
            return None if self.backfill_state == BackfillState.PENDING else 0
        span = (self.backfill_started_at - self.backfill_until).total_seconds()
        covered = (self.backfill_started_at - self.backfill_reached).total_seconds()
        return max(0, min(99, int(100 * covered / span))) if span > 0 else 99

    def is_recently_active(self, now: datetime, within: timedelta) -> bool:
        return self.last_swap_at is not None and now - self.last_swap_at <= within

    @staticmethod
    def followers_of(wallet_ids: Iterable[int]) -> dict[int, list[int]]:
        """wallet id → ids of the users following it (wallets nobody follows are absent). Read through
        the follows' relation to the wallet, so this app needs nothing of the app that owns follows."""
        followers: dict[int, list[int]] = {}
        rows = TrackedWallet.objects.filter(id__in=list(wallet_ids), followers__isnull=False).values_list(
            "id", "followers__user_id"
        )
        for wallet_id, user_id in rows:
            followers.setdefault(wallet_id, []).append(user_id)
        return followers


class Token(models.Model):
    """A mint. `symbol` and `name` come from the chain: attacker-controlled, stored as-is, escaped on output."""

    mint = models.CharField(max_length=44, unique=True)
    symbol = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200, blank=True)
    decimals = models.PositiveSmallIntegerField(null=True, blank=True)
    logo_url = models.URLField(max_length=500, blank=True)
    metadata_updated_at = models.DateTimeField(null=True, blank=True)
    # The latest price we hold; its history is in TokenPrice.
    price_usd = models.DecimalField(**PRICE, null=True, blank=True)
    price_source = models.CharField(max_length=20, blank=True)
    price_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["symbol", "mint"]

    def __str__(self) -> str:
        return self.symbol or self.short_mint

    @property
    def short_mint(self) -> str:
        return f"{self.mint[:4]}…{self.mint[-4:]}"

    def price_is_stale(self, now: datetime, max_age: timedelta) -> bool:
        """True when there is no price, or the one we hold is older than `max_age`."""
        return self.price_updated_at is None or now - self.price_updated_at > max_age

    @property
    def display_symbol(self) -> str:
        """The symbol, or the shortened mint while metadata is unknown."""
        return self.symbol or self.short_mint


class ArrivedVia(models.TextChoices):
    WEBHOOK = "webhook", "webhook"
    POLL = "poll", "poll"
    BACKFILL = "backfill", "backfill"
    REPARSE = "reparse", "reparse"


class Side(models.TextChoices):
    BUY = "buy", "buy"
    SELL = "sell", "sell"


class Swap(models.Model):
    """One buy or sell of `token` by `wallet`, read from one transaction (unique per signature, wallet, token)."""

    wallet = models.ForeignKey(TrackedWallet, on_delete=models.CASCADE, related_name="swaps")
    token = models.ForeignKey(Token, on_delete=models.PROTECT, related_name="swaps")
    signature = models.CharField(max_length=100)
    side = models.CharField(max_length=4, choices=Side.choices)
    token_amount = models.DecimalField(**AMOUNT)
    quote_mint = models.CharField(max_length=44)
    quote_amount = models.DecimalField(**AMOUNT)
    price_in_quote = models.DecimalField(**PRICE)
    usd_price = models.DecimalField(**PRICE, null=True, blank=True, help_text="USD per token at block time")
    usd_value = models.DecimalField(**USD, null=True, blank=True, help_text="USD value of the quote leg")
    block_time = models.DateTimeField()
    slot = models.BigIntegerField()
    source = models.CharField(max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="order within the transaction")
    arrived_via = models.CharField(max_length=10, choices=ArrivedVia.choices)
    ingested_at = models.DateTimeField(default=timezone.now)
    live = models.BooleanField(
        default=False, help_text="news when it arrived: goes on top of live feeds (else history, in its place in time)"
    )
    pushed_at = models.DateTimeField(null=True, blank=True)
    in_books = models.BooleanField(default=False, help_text="applied to its position's FIFO book")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["signature", "wallet", "token"], name="swap_once_per_signature"),
        ]
        indexes = [
            models.Index(fields=["-block_time", "-id"], name="swap_feed"),
            models.Index(fields=["wallet", "-block_time"], name="swap_by_wallet"),
            models.Index(fields=["token", "-block_time"], name="swap_by_token"),
            models.Index(fields=["ingested_at"], name="swap_ingested"),
            models.Index(fields=["ingested_at"], condition=models.Q(in_books=False), name="swap_not_in_books"),
            # Live swaps whose push has not gone out (Redis was down): the sweep's whole work list.
            models.Index(fields=["id"], condition=models.Q(live=True, pushed_at=None), name="swap_not_pushed"),
            # A booking counts its positions' trades waiting for a USD price: few rows, where the
            # (wallet, token) of a busy pair otherwise reads thousands of priced ones.
            models.Index(fields=["wallet", "token"], condition=models.Q(usd_price=None), name="swap_unpriced"),
        ]

    def __str__(self) -> str:
        return f"{self.wallet} {self.side} {self.token_amount} {self.token}"

    @property
    def quote_asset(self) -> str:
        return QUOTE_ASSETS.get(self.quote_mint, "?")

    @property
    def is_valued(self) -> bool:
        return self.usd_value is not None


class Direction(models.TextChoices):
    IN = "in", "in"
    OUT = "out", "out"


class TokenTransferQuerySet(models.QuerySet):
    def ready_for_books(self) -> TokenTransferQuerySet:
        """Those the books can take: every outgoing one (it leaves at cost), incoming ones once they
        have a market value on receipt (the rows `needs_price` says no to)."""
        return self.filter(models.Q(direction=Direction.OUT) | models.Q(usd_price__isnull=False))


class TokenTransfer(models.Model):
    """Tokens that came into or left `wallet` without a trade (transfer, airdrop, liquidity move).

    In P&L (METRICS.md): one that came in is a lot at market value on receipt (`usd_price`, None
    until known), flagged; one that went out removes lots at cost and realizes nothing.
    """

    wallet = models.ForeignKey(TrackedWallet, on_delete=models.CASCADE, related_name="transfers")
    token = models.ForeignKey(Token, on_delete=models.PROTECT, related_name="transfers")
    signature = models.CharField(max_length=100)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    amount = models.DecimalField(**AMOUNT)
    usd_price = models.DecimalField(**PRICE, null=True, blank=True, help_text="USD per token on receipt")
    block_time = models.DateTimeField()
    slot = models.BigIntegerField()
    source = models.CharField(max_length=40, blank=True)
    arrived_via = models.CharField(max_length=10, choices=ArrivedVia.choices)
    ingested_at = models.DateTimeField(default=timezone.now)
    in_books = models.BooleanField(default=False, help_text="applied to its position's FIFO book")

    objects = TokenTransferQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["signature", "wallet", "token"], name="transfer_once_per_signature"),
        ]
        indexes = [
            models.Index(fields=["wallet", "-block_time"], name="transfer_by_wallet"),
            models.Index(fields=["ingested_at"], condition=models.Q(in_books=False), name="transfer_not_in_books"),
            models.Index(
                fields=["wallet", "token"],
                condition=models.Q(direction=Direction.IN, usd_price=None),
                name="transfer_in_unpriced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.wallet} {self.direction} {self.amount} {self.token}"

    @property
    def needs_price(self) -> bool:
        """An incoming transfer enters the books at its market value: without one it waits."""
        return self.direction == Direction.IN and self.usd_price is None


class RawTransaction(models.Model):
    """The enhanced transaction as Helius sent it, so `manage.py reparse` can rebuild swaps after a parser fix."""

    signature = models.CharField(max_length=100, unique=True)
    payload = models.JSONField()
    block_time = models.DateTimeField(null=True, blank=True)
    arrived_via = models.CharField(max_length=10, choices=ArrivedVia.choices)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["-block_time"], name="rawtx_by_time")]

    def __str__(self) -> str:
        return self.signature


class Quarantined(models.Model):
    """Something that arrived but could not be read or stored: kept as it came, with the reason, for a
    person to look at (admin, status page) while the rest of its batch went on. One row per thing;
    each time it arrives again `times_seen` grows."""

    class Kind(models.TextChoices):
        TRANSACTION = "transaction", "transaction"
        TOKEN_METADATA = "token metadata", "token metadata"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=200, help_text="the transaction's signature, or the token's mint")
    arrived_via = models.CharField(max_length=20, help_text="webhook, poll, backfill, reparse or birdeye")
    reason = models.TextField()
    # JSON text in ASCII (NUL and lone surrogates as \u escapes, which neither jsonb nor text would take
    # raw): `json.loads(raw)` is exactly what arrived.
    raw = models.TextField()
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    times_seen = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name_plural = "quarantined"
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="quarantined_once")]
        indexes = [models.Index(fields=["-last_seen_at"], name="quarantined_recent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key[:24]}"


class TokenPrice(models.Model):
    """USD price points of a token over time (Birdeye, with DexScreener/Jupiter as fallbacks)."""

    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="prices")
    at = models.DateTimeField()
    price_usd = models.DecimalField(**PRICE)
    source = models.CharField(max_length=20)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "at"], name="one_price_per_token_and_time")]
        indexes = [models.Index(fields=["token", "-at"], name="price_by_token_time")]

    def __str__(self) -> str:
        return f"{self.token} ${self.price_usd} at {self.at:%Y-%m-%d %H:%M}"


# --- P&L (METRICS.md v1): stored so that no page aggregates raw swaps per request ------------------

PNL = {"max_digits": 40, "decimal_places": 18}


class Position(models.Model):
    """One wallet's FIFO book of one token (`book` is `whales.books.pnl.TokenBook.to_dict()`), plus rounded
    copies of its figures for listing and sorting. Only valued trades are in the book; `pending_trades`
    counts the swaps and incoming transfers still waiting for a USD price."""

    wallet = models.ForeignKey(TrackedWallet, on_delete=models.CASCADE, related_name="positions")
    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="positions")
    book = models.JSONField()
    holdings = models.DecimalField(**AMOUNT, default=0)
    cost_basis = models.DecimalField(**PNL, default=0)
    realized_pnl = models.DecimalField(**PNL, default=0)
    missing_amount = models.DecimalField(**AMOUNT, default=0)
    incomplete = models.BooleanField("incomplete cost basis", default=False)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="start of the open cycle; empty when flat")
    cycle_complete = models.BooleanField(default=True)
    unrealized_pnl = models.DecimalField(**PNL, null=True, blank=True, help_text="at the token's latest price")
    pending_trades = models.PositiveIntegerField(default=0)
    bought_usd = models.DecimalField(**USD, default=0, help_text="lifetime USD spent on the token (valued swaps)")
    sold_usd = models.DecimalField(**USD, default=0, help_text="lifetime USD received for it")
    last_trade_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wallet", "token"], name="one_position_per_wallet_token")]
        indexes = [models.Index(fields=["token"], condition=models.Q(opened_at__isnull=False), name="open_by_token")]

    def __str__(self) -> str:
        return f"{self.wallet} · {self.token}"

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    @property
    def average_cost(self) -> Decimal | None:
        """USD cost per token held; None when nothing is held."""
        return self.cost_basis / self.holdings if self.holdings else None

    @property
    def lots(self) -> list[dict]:
        """The open FIFO lots, oldest first: time (datetime), amount, cost (USD), transferred."""
        return [
            {
                "time": datetime.fromtimestamp(int(lot["time"]), UTC),
                "amount": Decimal(lot["amount"]),
                "cost": Decimal(lot["cost"]),
                "transferred": lot.get("transferred", False),
            }
            for lot in self.book.get("lots", [])
        ]

    @cached_property
    def lot_count(self) -> int:
        """How many lots are open. A query may give it instead (`selectors.open_positions_of` counts
        them in SQL and leaves the book, the row's largest value, unread)."""
        return len(self.book.get("lots", []))

    @property
    def net_flow_usd(self) -> Decimal:
        """USD the wallet put into the token, net of what it took out (positive: accumulating)."""
        return self.bought_usd - self.sold_usd


# Cycles and realizations are the FIFO engine's output: one writer (whales.books.ledger, under the
# wallet's lock) rebuilds them from the swaps, and Django's collector deletes them with their parents
# (on_delete=CASCADE needs no database constraint). PostgreSQL checking their foreign keys row by row
# cost a third of a full recompute (bench/README.md), so their keys are not constrained. `wallet`
# needs no index of its own: the composite indexes start with it.
DERIVED = {"on_delete": models.CASCADE, "db_constraint": False}


class PositionCycle(models.Model):
    """A round trip: opened when holdings rose above dust, closed (`closed_at`) when they fell back."""

    wallet = models.ForeignKey(TrackedWallet, **DERIVED, db_index=False, related_name="cycles")
    token = models.ForeignKey(Token, **DERIVED, related_name="cycles")
    # The engine's trade keys: a swap's id, or "t<id>" for a token transfer.
    opened_key = models.CharField(max_length=24)
    opened_at = models.DateTimeField()
    closed_key = models.CharField(max_length=24, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    realized_pnl = models.DecimalField(**PNL, default=0)
    complete = models.BooleanField(default=True, help_text="False after an oversell: left out of win rates")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wallet", "token", "opened_key"], name="one_cycle_per_opening")]
        indexes = [models.Index(fields=["wallet", "-closed_at"], name="cycle_by_wallet_close")]

    def __str__(self) -> str:
        return f"{self.wallet} · {self.token} cycle from {self.opened_at:%Y-%m-%d}"


class Realization(models.Model):
    """A sell matched FIFO against the wallet's lots: what it realized."""

    swap = models.OneToOneField(Swap, **DERIVED, related_name="realization")
    wallet = models.ForeignKey(TrackedWallet, **DERIVED, db_index=False, related_name="realizations")
    token = models.ForeignKey(Token, **DERIVED, related_name="realizations")
    at = models.DateTimeField()
    amount = models.DecimalField(**AMOUNT)
    proceeds = models.DecimalField(**PNL)
    cost_basis = models.DecimalField(**PNL)
    realized_pnl = models.DecimalField(**PNL)
    missing_amount = models.DecimalField(**AMOUNT, default=0)

    class Meta:
        indexes = [models.Index(fields=["wallet", "at"], name="realization_by_wallet_time")]

    def __str__(self) -> str:
        return f"{self.wallet} sold {self.amount} {self.token}: {self.realized_pnl:+}"


class Window(models.TextChoices):
    DAY = "24h", "24 hours"
    WEEK = "7d", "7 days"
    MONTH = "30d", "30 days"
    ALL = "all", "all time"


_ACTIVE = models.Q(wallet_active=True)


def _leaderboard_index(name: str, *order: OrderBy) -> models.Index:
    """An index of a window's active wallets in a leaderboard order (ties by wallet), covering the id."""
    return models.Index(F("window"), *order, F("wallet_id"), name=name, condition=_ACTIVE, include=["id"])


class WalletStats(models.Model):
    """A wallet's figures over one window, refreshed on ingest, on price ticks and by beat as windows roll.

    Rates are fractions (0.5 = 50 %) and None when there is nothing to rate (never 0 %).
    """

    wallet = models.ForeignKey(TrackedWallet, on_delete=models.CASCADE, related_name="stats")
    window = models.CharField(max_length=3, choices=Window.choices)
    realized_pnl = models.DecimalField(**USD, default=0)
    unrealized_pnl = models.DecimalField(**USD, default=0)
    total_pnl = models.DecimalField(**USD, default=0)
    roi = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    capital = models.DecimalField(**USD, default=0, help_text="cost of what was sold in the window plus what is open")
    volume_usd = models.DecimalField(**USD, default=0)
    swap_count = models.PositiveIntegerField(default=0)
    cycles = models.PositiveIntegerField("closed cycles", default=0)
    cycle_wins = models.PositiveIntegerField(default=0)
    win_rate = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    win_rate_low = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    win_rate_high = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    sells = models.PositiveIntegerField(default=0)
    sell_wins = models.PositiveIntegerField(default=0)
    sell_win_rate = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    sell_win_rate_low = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    sell_win_rate_high = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    dead_bags = models.PositiveIntegerField(default=0)
    adjusted_win_rate = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    adjusted_win_rate_low = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    adjusted_win_rate_high = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    rankable = models.BooleanField(default=False, help_text="enough closed cycles to rank by win rate")
    wallet_active = models.BooleanField(
        default=True, help_text="a copy of the wallet's, so the leaderboard needs no join"
    )
    open_positions = models.PositiveIntegerField(default=0)
    incomplete = models.BooleanField("incomplete cost basis", default=False)
    pending_trades = models.PositiveIntegerField(default=0)
    unpriced_positions = models.PositiveIntegerField(
        default=0, help_text="open positions in tokens without a price yet: their unrealized P&L is pending"
    )
    last_active = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wallet", "window"], name="one_stats_row_per_window")]
        # The leaderboard lists active wallets of one window in one of these orders (whales.views), ties
        # broken by wallet; an index per common order, with NULLs where the page puts them and the tie
        # breaker last, makes a page a few rows' read, and a deep page (an offset) a walk along the
        # index that reads only it (`id` included) rather than a sort of every row.
        indexes = [
            _leaderboard_index("stats_by_total", F("total_pnl").desc()),
            _leaderboard_index("stats_by_realized", F("realized_pnl").desc()),
            _leaderboard_index("stats_by_win_rate", F("rankable").desc(), F("win_rate").desc(nulls_last=True)),
            _leaderboard_index("stats_by_roi", F("roi").desc(nulls_last=True)),
            _leaderboard_index("stats_by_volume", F("volume_usd").desc()),
            _leaderboard_index("stats_by_activity", F("last_active").desc(nulls_last=True)),
        ]

    def __str__(self) -> str:
        return f"{self.wallet} · {self.window}"

    @property
    def history_loading(self) -> bool:
        """The wallet's history is still loading and nothing of this window is in the books yet: its
        figures are not known (not zero). Reads `wallet`: select it with the row."""
        loading = self.wallet.backfill_state in (BackfillState.PENDING, BackfillState.RUNNING)
        return loading and not self.swap_count and not self.pending_trades

    # What a figure reads while it is not known yet: "loading" (the wallet's history is on its way),
    # "pricing" (a trade or an open position waits for a USD price) or "" (show the figure). A figure
    # that is partly known shows its number, the row's "pricing" marker saying what is left out;
    # one that is zero only for want of a price reads "pricing…", never $0.00.
    def _pending(self, figure: Decimal | None, *, positions: bool) -> str:
        if self.history_loading:
            return "loading"
        waiting = self.pending_trades or (positions and self.unpriced_positions)
        return "pricing" if waiting and not figure else ""

    @property
    def realized_pending(self) -> str:
        return self._pending(self.realized_pnl, positions=False)

    @property
    def volume_pending(self) -> str:
        return self._pending(self.volume_usd, positions=False)

    @property
    def unrealized_pending(self) -> str:
        return self._pending(self.unrealized_pnl, positions=True)

    @property
    def total_pending(self) -> str:
        return self._pending(self.total_pnl, positions=True)

    @property
    def roi_pending(self) -> str:
        return self._pending(self.roi, positions=True)

    @property
    def waiting_for_prices(self) -> int:
        """Trades and open positions left out of the figures until they have a USD price."""
        return self.pending_trades + self.unpriced_positions

    @property
    def confidence(self) -> str:
        """How far the Wilson interval lets one trust the win rate: "high", "medium", "low" or "none"."""
        if self.win_rate_low is None or self.win_rate_high is None:
            return "none"
        width = self.win_rate_high - self.win_rate_low
        if width <= Decimal("0.2"):
            return "high"
        return "medium" if width <= Decimal("0.4") else "low"


class WindowTotals(models.Model):
    """The sums a wallet's figures over one window are made of, kept exact (at the scale of the rows
    summed) as of `as_of`: every booked swap, realization and closed complete cycle of the wallet
    dated after `as_of` less the window. A booking adds its own rows; moving `as_of` forward takes
    off only the rows the window's start passes. `WalletStats` is written from these."""

    wallet = models.ForeignKey(TrackedWallet, on_delete=models.CASCADE, related_name="window_totals")
    window = models.CharField(max_length=3, choices=Window.choices)
    as_of = models.DateTimeField()
    realized = models.DecimalField(max_digits=60, decimal_places=18, default=0)
    sold_cost = models.DecimalField(max_digits=60, decimal_places=18, default=0)
    sells = models.PositiveIntegerField(default=0)
    sell_wins = models.PositiveIntegerField(default=0)
    cycles = models.PositiveIntegerField(default=0)
    cycle_wins = models.PositiveIntegerField(default=0)
    volume = models.DecimalField(max_digits=40, decimal_places=8, default=0)
    swaps = models.PositiveIntegerField(default=0)
    last_active = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wallet", "window"], name="one_totals_row_per_window")]

    def __str__(self) -> str:
        return f"{self.wallet} · {self.window} as of {self.as_of:%Y-%m-%d %H:%M:%S}"
