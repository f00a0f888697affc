"""What the market records: transactions, the intent behind a swap, planned exits."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from simulator.market.constants import SOL_DECIMALS, STABLE_DECIMALS, WSOL_MINT


@dataclass(frozen=True)
class Intent:
    """What the simulator meant a swap to be, in the parser's terms (`whales.ingestion.parsing.ParsedSwap`).

    `quote_amount` is what the wallet actually paid (buy) or received (sell): launchpad, bot and
    platform fees included; the network fee and the rent of its own token accounts excluded.
    SOL is `WSOL_MINT`.
    """

    side: str
    token_mint: str
    token_amount: Decimal
    quote_mint: str
    quote_amount: Decimal


@dataclass(frozen=True, slots=True)
class SimTransaction:
    """One transaction of the simulated chain, as plain facts; `payloads` renders it as Helius JSON.

    `wallet` is the whale whose activity this is (the fee payer, except for an incoming transfer,
    which the `counterparty` pays for). Amounts are raw base units. For swaps `quote_raw` is the
    gross quote that went through the pool or curve; `extra_fee_raw` is the launchpad (pump.fun),
    trading-bot or Jupiter platform fee in the same unit, paid on top of a buy or out of a sell.
    """

    seq: int
    signature: str
    slot: int
    timestamp: int
    wallet: str
    kind: str  # "swap" | "failed" | "sol_transfer" | "spl_transfer"
    shape: str = ""  # swaps and failed swaps: one of SHAPES
    side: str = ""  # swaps: "buy" | "sell"; transfers: "out" | "in"
    token_mint: str = ""
    token_raw: int = 0
    token_decimals: int = 0
    quote_mint: str = ""
    quote_raw: int = 0
    extra_fee_raw: int = 0
    extra_fee_kind: str = ""  # "pumpfun" | "bot" | "platform"
    network_fee: int = 5000
    new_token_account: bool = False  # the buy (or incoming transfer) opens the wallet's token account
    close_token_account: bool = False  # the sell closes it and takes the rent back
    hops: int = 1
    hop_via_wallet: bool = False  # a 2-hop route passes through the wallet's own USDT account
    intermediate_raw: int = 0  # USDT between the two hops
    venue: str = ""  # the AMM a Jupiter hop runs on
    counterparty: str = ""
    counterparty_new_account: bool = False  # an outgoing SPL transfer opens the recipient's account
    salt: int = 0  # payload-only randomness (instruction data)
    live: bool = False

    @property
    def fee_payer(self) -> str:
        return self.counterparty if self.kind in ("sol_transfer", "spl_transfer") and self.side == "in" else self.wallet

    @property
    def involved(self) -> tuple[str, ...]:
        """Addresses whose history lists this transaction (and whose webhooks it triggers)."""
        return tuple(a for a in (self.wallet, self.counterparty, self.token_mint) if a)

    @property
    def intent(self) -> Intent | None:
        """The swap `wallet` made, or None (transfers, failed transactions)."""
        if self.kind != "swap":
            return None
        paid = self.quote_raw + self.extra_fee_raw if self.side == "buy" else self.quote_raw - self.extra_fee_raw
        quote_decimals = SOL_DECIMALS if self.quote_mint == WSOL_MINT else STABLE_DECIMALS
        return Intent(
            side=self.side,
            token_mint=self.token_mint,
            token_amount=_ui(self.token_raw, self.token_decimals),
            quote_mint=self.quote_mint,
            quote_amount=_ui(paid, quote_decimals),
        )


def _ui(raw: int, decimals: int) -> Decimal:
    return Decimal(raw).scaleb(-decimals)


class NothingToSell(Exception):
    """A forced sell for a wallet that holds no position worth selling."""


@dataclass(order=True)
class _PlannedExit:
    time: int
    order: int
    wallet: str = field(compare=False)
    mint: str = field(compare=False)
    fraction: float = field(compare=False)  # of the holding at that time; 1.0 sells everything
