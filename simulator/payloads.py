"""The vendors' JSON, built from the market: Helius enhanced transactions, Birdeye, DexScreener, Jupiter.

Shapes, key order and value types are copied from the real payloads in tests/fixtures/ (and
/work/shared/reference/APIS.md): Helius `tokenTransfers[].tokenAmount` is a UI-unit number,
`rawTokenAmount.tokenAmount` a string of base units, `nativeBalanceChange` an int, and
`events.swap.*.amount` strings. How each venue's SOL leg looks (temporary wSOL accounts, rent,
fees that only `nativeTransfers` show) follows APIS.md §5 and §7.

Pure functions of a `Market` and a `SimTransaction`; instruction `data` is random filler drawn
from the transaction's own salt, so a payload is the same every time it is built.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from simulator.base58 import ALPHABET, derived_address
from simulator.market import (
    DAY_MINUTES,
    JUPITER_VENUES,
    MINUTE,
    SOL_DECIMALS,
    STABLE_DECIMALS,
    TOKEN_ACCOUNT_RENT,
    USDC_MINT,
    USDT_MINT,
    WSOL_MINT,
    Market,
    SimTransaction,
    Token,
)

COMPUTE_BUDGET = "ComputeBudget111111111111111111111111111111"
SYSTEM_PROGRAM = "11111111111111111111111111111111"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
ATA_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
SYSVAR_RENT = "SysvarRent111111111111111111111111111111111"
JUPITER_V6 = "JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4"
JUPITER_AUTHORITY = "HFqp6ErWHY6Uzhj8rFyjYuDya2mXUpYEk8VW75K9PSiY"  # shared-accounts owner (2-hop sample)
JUPITER_EVENT_AUTHORITY = "D8cy77BBepLMngZx6ZukaTff5hCt1HrWyKk3Hnd9oitf"
RAYDIUM_AMM_V4 = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8"
RAYDIUM_AUTHORITY = "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1"
SERUM_PROGRAM = "srmqPvymJeFKQ4zGQed1GFppgkRHL9kaELCbyksJtPX"
PUMP_FUN_PROGRAM = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"
PUMP_FUN_FEE_RECIPIENT = "CebN5WGQ4jvEPvsVU4EoHEpgzq1VV7AbicfhtW4xC9iM"
PUMP_AMM_PROGRAM = "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA"
BOT_FEE_WALLET = "9yMwSPk9mrXSN7yDHUuZurAh1sjbJsfpUqjZ7SvVtdco"

# Helius `innerSwaps[].programInfo` per AMM: the first three as observed in real samples, ORCA as
# in the OpenAPI example.
_VENUES = {
    "RAYDIUM_CLMM": ("RAYDIUM", "CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK"),
    "METEORA_DLMM": ("METEORA", "LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo"),
    "INVARIANT": ("INVARIANT", "HyaB3W9q6XdA5xwpU4XnSZV94htfmbmqJXZcEbRaJutt"),
    "ORCA_WHIRLPOOLS": ("ORCA", "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"),
}
_SYMBOLS = {WSOL_MINT: "SOL", USDC_MINT: "USDC", USDT_MINT: "USDT"}
# Solana's "custom program error: 0x1771" is 6001, slippage exceeded in Jupiter and Raydium.
_SWAP_ERROR = {"error": "custom program error: 0x1771"}

Json = dict[str, Any]


# --- Helius enhanced transactions ----------------------------------------------------------------


def type_and_source(tx: SimTransaction) -> tuple[str, str]:
    """Helius `type` and `source` of `tx`: what the history API's `type=`/`source=` filters match."""
    if tx.kind == "sol_transfer":
        return "TRANSFER", "SYSTEM_PROGRAM"
    if tx.kind == "spl_transfer":
        return "TRANSFER", "PHANTOM"
    return _SHAPE_TYPES[tx.shape]


_SHAPE_TYPES = {
    "jupiter": ("SWAP", "JUPITER"),
    "raydium": ("SWAP", "RAYDIUM"),
    "pumpswap": ("SWAP", "PUMP_AMM"),
    "pumpfun": ("TRANSFER", "SYSTEM_PROGRAM"),  # pump.fun curve trades arrive unparsed (APIS.md §1.5)
}


def enhanced_transaction(tx: SimTransaction, market: Market) -> Json:
    """`tx` as Helius returns it from /v0/addresses/{a}/transactions, /v0/transactions and webhooks."""
    if tx.kind == "sol_transfer":
        return _sol_transfer(tx)
    if tx.kind == "spl_transfer":
        return _spl_transfer(tx, market.tokens_by_mint[tx.token_mint])
    token = market.tokens_by_mint[tx.token_mint]
    builder = _Builder(tx, token)
    if tx.kind == "failed":
        builder.failed()
    else:
        {"jupiter": builder.jupiter, "raydium": builder.raydium, "pumpswap": builder.pumpswap,
         "pumpfun": builder.pumpfun}[tx.shape]()
    return builder.render()


def token_account(owner: str, mint: str) -> str:
    """The (associated) token account `owner` holds `mint` in."""
    return derived_address("token account", owner, mint)


class _Accounts:
    """`accountData`, in first-touched order: lamport deltas and token balance changes per account."""

    def __init__(self) -> None:
        self._lamports: dict[str, int] = {}
        self._tokens: dict[str, list[tuple[str, str, int, int]]] = {}

    def touch(self, *accounts: str) -> None:
        for account in accounts:
            self._lamports.setdefault(account, 0)

    def lamports(self, account: str, delta: int) -> None:
        self._lamports[account] = self._lamports.get(account, 0) + delta

    def token(self, account: str, owner: str, mint: str, raw: int, decimals: int) -> None:
        """`account` (owned by `owner`) gained `raw` of `mint`; wSOL accounts gain lamports too."""
        self.balance(account, owner, mint, raw, decimals)
        if mint == WSOL_MINT:
            self.lamports(account, raw)

    def balance(self, account: str, owner: str, mint: str, raw: int, decimals: int) -> None:
        """Only the token balance moves: wrapping lamports already in a wSOL account, or unwrapping."""
        self.touch(account)
        self._tokens.setdefault(account, []).append((owner, mint, raw, decimals))

    def render(self) -> list[Json]:
        rendered = []
        for account, lamports in self._lamports.items():
            net: dict[tuple[str, str, int], int] = {}
            for owner, mint, raw, decimals in self._tokens.get(account, ()):
                net[(owner, mint, decimals)] = net.get((owner, mint, decimals), 0) + raw
            changes = [_balance(owner, account, raw, decimals, mint) for (owner, mint, decimals), raw in net.items()
                       if raw]
            rendered.append({"account": account, "nativeBalanceChange": lamports, "tokenBalanceChanges": changes})
        return rendered


class _Builder:
    """Assembles one swap (or failed swap) transaction; each venue method fills the parts."""

    def __init__(self, tx: SimTransaction, token: Token) -> None:
        self.tx, self.token = tx, token
        self.wallet = tx.wallet
        self.rng = random.Random(tx.salt)
        self.accounts = _Accounts()
        self.token_transfers: list[Json] = []
        self.native_transfers: list[Json] = []
        self.instructions: list[Json] = [self._compute_budget(), self._compute_budget()]
        self.events: Json = {}
        self.type, self.source = type_and_source(tx)
        self.description = ""
        self.error: Json | None = None
        self.accounts.lamports(self.wallet, -tx.network_fee)
        self.token_account = token_account(self.wallet, token.mint)

    # -- venues -------------------------------------------------------------------------------------

    def pumpfun(self) -> None:
        """pump.fun bonding curve: Helius types it TRANSFER/SYSTEM_PROGRAM with empty events; the
        SOL leg is only in lamport balances (and, on buys, system transfers)."""
        tx, w, mint = self.tx, self.wallet, self.token.mint
        curve = derived_address("pump.fun bonding curve", mint)
        curve_tokens = token_account(curve, mint)
        inner: list[Json] = []
        if tx.side == "buy":
            self._open_token_account()
            self._token_move(curve_tokens, self.token_account, curve, w, mint, tx.token_raw, self.token.decimals, inner)
            self._native(w, curve, tx.quote_raw, inner)
            self._native(w, PUMP_FUN_FEE_RECIPIENT, tx.extra_fee_raw, inner)
        else:
            self._token_move(self.token_account, curve_tokens, w, curve, mint, tx.token_raw, self.token.decimals,
                             inner)
            # The program pays out of the curve account's lamports directly: no system transfer.
            self.accounts.lamports(curve, -tx.quote_raw)
            self.accounts.lamports(PUMP_FUN_FEE_RECIPIENT, tx.extra_fee_raw)
            self.accounts.lamports(w, tx.quote_raw - tx.extra_fee_raw)
        self.instructions.append(self._instruction(
            PUMP_FUN_PROGRAM, [PUMP_FUN_FEE_RECIPIENT, mint, curve, curve_tokens, self.token_account, w,
                               SYSTEM_PROGRAM, TOKEN_PROGRAM], inner))
        if tx.side == "sell":
            self._close_token_account()
        self.accounts.touch(PUMP_FUN_PROGRAM, SYSTEM_PROGRAM, TOKEN_PROGRAM, mint)

    def pumpswap(self) -> None:
        """PumpSwap AMM: SWAP/PUMP_AMM with empty events; wSOL moves through the wallet's temporary
        wSOL account, a trading bot may take 1 % in a plain system transfer."""
        tx, w, mint = self.tx, self.wallet, self.token.mint
        pool = derived_address("pumpswap pool", mint)
        pool_tokens, pool_wsol = token_account(pool, mint), token_account(pool, WSOL_MINT)
        protocol = derived_address("pumpswap protocol fee recipient")
        protocol_wsol = token_account(protocol, WSOL_MINT)
        temp = token_account(w, WSOL_MINT)
        protocol_fee = tx.quote_raw * 5 // 10_000
        inner: list[Json] = []
        if tx.side == "buy":
            self._open_token_account()
            self._open_temp_wsol(temp, wrap=tx.quote_raw)
            self._token_move(pool_tokens, self.token_account, pool, w, mint, tx.token_raw, self.token.decimals, inner)
            self._token_move(temp, pool_wsol, w, pool, WSOL_MINT, tx.quote_raw - protocol_fee, SOL_DECIMALS, inner)
            self._token_move(temp, protocol_wsol, w, protocol, WSOL_MINT, protocol_fee, SOL_DECIMALS, inner)
            self._bot_fee(inner)
            self.instructions.append(self._swap_instruction(PUMP_AMM_PROGRAM, pool, inner))
            self._close_temp_wsol(temp, refund=0)
        else:
            self._open_temp_wsol(temp, wrap=0)
            self._token_move(self.token_account, pool_tokens, w, pool, mint, tx.token_raw, self.token.decimals, inner)
            self._token_move(pool_wsol, temp, pool, w, WSOL_MINT, tx.quote_raw, SOL_DECIMALS, inner)
            self._token_move(pool_wsol, protocol_wsol, pool, protocol, WSOL_MINT, protocol_fee, SOL_DECIMALS, inner)
            self.instructions.append(self._swap_instruction(PUMP_AMM_PROGRAM, pool, inner))
            self._close_temp_wsol(temp, refund=tx.quote_raw)
            self._bot_fee(self.instructions[-1]["innerInstructions"])
            self._close_token_account()
        self.accounts.touch(PUMP_AMM_PROGRAM, TOKEN_PROGRAM, SYSTEM_PROGRAM, WSOL_MINT, mint)

    def raydium(self) -> None:
        """Raydium AMM v4, SOL <-> token through a throwaway wSOL account; the swap event records
        the pool's leg on the Raydium authority, not on the wallet (as in the real sample)."""
        tx, w, mint, decimals = self.tx, self.wallet, self.token.mint, self.token.decimals
        amm = derived_address("raydium amm", mint)
        vault_tokens, vault_wsol = token_account(amm + ":coin", mint), token_account(amm + ":pc", WSOL_MINT)
        temp = derived_address("raydium temp wsol", tx.signature)
        inner: list[Json] = []
        sol = _ui_text(tx.quote_raw, SOL_DECIMALS)
        amount = _ui_text(tx.token_raw, decimals)
        swap = _empty_swap_event()
        if tx.side == "buy":
            self._open_token_account()
            self._open_temp_wsol(temp, wrap=tx.quote_raw, with_seed=True)
            self._token_move(temp, vault_wsol, w, RAYDIUM_AUTHORITY, WSOL_MINT, tx.quote_raw, SOL_DECIMALS, inner)
            self._token_move(vault_tokens, self.token_account, RAYDIUM_AUTHORITY, w, mint, tx.token_raw, decimals,
                             inner)
            swap["nativeInput"] = {"account": w, "amount": str(tx.quote_raw)}
            swap["tokenOutputs"] = [_balance(RAYDIUM_AUTHORITY, vault_tokens, tx.token_raw, decimals, mint)]
            self.description = f"{w} swapped {sol} SOL for {amount} {self.token.symbol}"
        else:
            self._open_temp_wsol(temp, wrap=0, with_seed=True)
            self._token_move(self.token_account, vault_tokens, w, RAYDIUM_AUTHORITY, mint, tx.token_raw, decimals,
                             inner)
            self._token_move(vault_wsol, temp, RAYDIUM_AUTHORITY, w, WSOL_MINT, tx.quote_raw, SOL_DECIMALS, inner)
            swap["nativeOutput"] = {"account": w, "amount": str(tx.quote_raw)}
            swap["tokenInputs"] = [_balance(w, self.token_account, tx.token_raw, decimals, mint)]
            self.description = f"{w} swapped {amount} {self.token.symbol} for {sol} SOL"
        self.instructions.append(self._instruction(
            RAYDIUM_AMM_V4, [TOKEN_PROGRAM, amm, RAYDIUM_AUTHORITY, derived_address("raydium open orders", mint),
                             vault_tokens, vault_wsol, SERUM_PROGRAM, temp, self.token_account, w], inner))
        self._close_temp_wsol(temp, refund=tx.quote_raw if tx.side == "sell" else 0)
        if tx.side == "sell":
            self._close_token_account()
        self.accounts.touch(amm, derived_address("raydium open orders", mint), COMPUTE_BUDGET, SYSTEM_PROGRAM,
                            TOKEN_PROGRAM, WSOL_MINT, SYSVAR_RENT, RAYDIUM_AMM_V4, RAYDIUM_AUTHORITY, SERUM_PROGRAM)
        self.events = {"swap": swap}

    def jupiter(self) -> None:
        """A Jupiter v6 route, SOL- or USDC-quoted, one hop straight through a pool or two hops via
        USDT (through Jupiter's shared accounts or the wallet's own USDT account)."""
        tx, w, mint, decimals = self.tx, self.wallet, self.token.mint, self.token.decimals
        quote, quote_decimals = tx.quote_mint, _decimals(tx.quote_mint)
        quote_account = token_account(w, quote)  # the temporary wSOL account when quoted in SOL
        sol_quoted = quote == WSOL_MINT
        inner: list[Json] = []
        swap = _empty_swap_event()
        platform_owner = derived_address("jupiter referral", str(tx.salt % 5))
        platform_account = token_account(platform_owner, quote)
        if tx.side == "buy":
            self._open_token_account()
            if sol_quoted:
                self._open_temp_wsol(quote_account, wrap=tx.quote_raw)
                swap["nativeInput"] = {"account": w, "amount": str(tx.quote_raw)}
            else:
                swap["tokenInputs"] = [_balance(w, quote_account, tx.quote_raw, quote_decimals, quote)]
            swap["tokenOutputs"] = [_balance(w, self.token_account, tx.token_raw, decimals, mint)]
            hops = self._route(quote_account, self.token_account, quote, mint, tx.quote_raw, tx.token_raw, inner)
        else:
            if sol_quoted:
                self._open_temp_wsol(quote_account, wrap=0)
                swap["nativeOutput"] = {"account": w, "amount": str(tx.quote_raw)}
            else:
                swap["tokenOutputs"] = [_balance(w, quote_account, tx.quote_raw, quote_decimals, quote)]
            swap["tokenInputs"] = [_balance(w, self.token_account, tx.token_raw, decimals, mint)]
            hops = self._route(self.token_account, quote_account, mint, quote, tx.token_raw, tx.quote_raw, inner)
            if tx.extra_fee_raw:
                # The platform fee leaves the wallet's output account; the event's output stays gross.
                self._token_move(quote_account, platform_account, w, platform_owner, quote, tx.extra_fee_raw,
                                 quote_decimals, inner)
                if sol_quoted:
                    swap["nativeFees"] = [{"account": platform_owner, "amount": str(tx.extra_fee_raw)}]
                else:
                    swap["tokenFees"] = [_balance(platform_owner, platform_account, tx.extra_fee_raw, quote_decimals,
                                                  quote)]
        swap["innerSwaps"] = hops
        self.instructions.append(self._swap_instruction(JUPITER_V6, JUPITER_AUTHORITY, inner))
        if sol_quoted:
            self._close_temp_wsol(quote_account, refund=tx.quote_raw - tx.extra_fee_raw if tx.side == "sell" else 0)
        if tx.side == "sell":
            self._close_token_account()
        paid, got = (tx.quote_raw, tx.token_raw) if tx.side == "buy" else (tx.token_raw, tx.quote_raw)
        in_mint, out_mint = (quote, mint) if tx.side == "buy" else (mint, quote)
        self.description = (f"{w} swapped {_ui_text(paid, _decimals(in_mint, decimals))} {self._symbol(in_mint)} "
                            f"for {_ui_text(got, _decimals(out_mint, decimals))} {self._symbol(out_mint)}")
        self.accounts.touch(COMPUTE_BUDGET, ATA_PROGRAM, SYSTEM_PROGRAM, TOKEN_PROGRAM, JUPITER_V6, JUPITER_AUTHORITY,
                            JUPITER_EVENT_AUTHORITY, _VENUES[tx.venue][1], quote, mint)
        self.events = {"swap": swap}

    def failed(self) -> None:
        """A swap that reverted: the fee is gone, nothing else moved; Helius leaves it unparsed."""
        tx = self.tx
        program = {"jupiter": JUPITER_V6, "raydium": RAYDIUM_AMM_V4, "pumpswap": PUMP_AMM_PROGRAM,
                   "pumpfun": PUMP_FUN_PROGRAM}[tx.shape]
        self.instructions.append(self._instruction(program, [self.wallet, self.token_account, self.token.mint], []))
        self.accounts.touch(self.token_account, program, TOKEN_PROGRAM, self.token.mint)
        self.error = _SWAP_ERROR

    # -- pieces ---------------------------------------------------------------------------------------

    def _route(self, source: str, destination: str, in_mint: str, out_mint: str, amount_in: int, amount_out: int,
               inner: list[Json]) -> list[Json]:
        """Token moves of the route and its `innerSwaps`; the wallet's net is only in and out."""
        tx, w = self.tx, self.wallet
        in_decimals, out_decimals = _decimals(in_mint, self.token.decimals), _decimals(out_mint, self.token.decimals)
        first = self._pool(tx.venue, in_mint, USDT_MINT if tx.hops == 2 else out_mint)
        if tx.hops == 1:
            leg_in = self._token_move(source, first.account(in_mint), w, first.owner, in_mint, amount_in, in_decimals,
                                      inner)
            leg_out = self._token_move(first.account(out_mint), destination, first.owner, w, out_mint, amount_out,
                                       out_decimals, inner)
            return [_inner_swap([leg_in], [leg_out], tx.venue)]
        second = self._pool(_second_venue(tx), USDT_MINT, out_mint)
        middle_owner = w if tx.hop_via_wallet else JUPITER_AUTHORITY
        middle = token_account(middle_owner, USDT_MINT)
        if tx.hop_via_wallet:
            leg_in = self._token_move(source, first.account(in_mint), w, first.owner, in_mint, amount_in, in_decimals,
                                      inner)
        else:
            self._token_move(source, token_account(JUPITER_AUTHORITY, in_mint), w, JUPITER_AUTHORITY, in_mint,
                             amount_in, in_decimals, inner)
            leg_in = self._token_move(token_account(JUPITER_AUTHORITY, in_mint), first.account(in_mint),
                                      JUPITER_AUTHORITY, first.owner, in_mint, amount_in, in_decimals, inner)
        usdt_out = self._token_move(first.account(USDT_MINT), middle, first.owner, middle_owner, USDT_MINT,
                                    tx.intermediate_raw, STABLE_DECIMALS, inner)
        usdt_in = self._token_move(middle, second.account(USDT_MINT), middle_owner, second.owner, USDT_MINT,
                                   tx.intermediate_raw, STABLE_DECIMALS, inner)
        if tx.hop_via_wallet:
            leg_out = self._token_move(second.account(out_mint), destination, second.owner, w, out_mint, amount_out,
                                       out_decimals, inner)
        else:
            leg_out = self._token_move(second.account(out_mint), token_account(JUPITER_AUTHORITY, out_mint),
                                       second.owner, JUPITER_AUTHORITY, out_mint, amount_out, out_decimals, inner)
            self._token_move(token_account(JUPITER_AUTHORITY, out_mint), destination, JUPITER_AUTHORITY, w, out_mint,
                             amount_out, out_decimals, inner)
        return [_inner_swap([leg_in], [usdt_out], tx.venue), _inner_swap([usdt_in], [leg_out], _second_venue(tx))]

    def _pool(self, venue: str, mint_a: str, mint_b: str) -> _Pool:
        return _Pool(derived_address("pool", venue, *sorted((mint_a, mint_b))))

    def _token_move(self, source: str, destination: str, source_owner: str, destination_owner: str, mint: str,
                    raw: int, decimals: int, inner: list[Json]) -> Json:
        """An SPL transfer: a `tokenTransfers` entry, both balance changes, an inner instruction."""
        transfer = _token_transfer(source, destination, source_owner, destination_owner, raw, decimals, mint)
        self.token_transfers.append(transfer)
        self.accounts.token(source, source_owner, mint, -raw, decimals)
        self.accounts.token(destination, destination_owner, mint, raw, decimals)
        inner.append({"accounts": [source, destination, source_owner], "data": self._data(10),
                      "programId": TOKEN_PROGRAM})
        return transfer

    def _native(self, source: str, destination: str, lamports: int, inner: list[Json] | None = None) -> None:
        if not lamports:
            return
        self.native_transfers.append(_native_transfer(source, destination, lamports))
        self.accounts.lamports(source, -lamports)
        self.accounts.lamports(destination, lamports)
        if inner is not None:
            inner.append({"accounts": [source, destination], "data": self._data(12), "programId": SYSTEM_PROGRAM})

    def _bot_fee(self, inner: list[Json]) -> None:
        if self.tx.extra_fee_kind == "bot":
            self._native(self.wallet, BOT_FEE_WALLET, self.tx.extra_fee_raw, inner)

    def _open_token_account(self) -> None:
        """The wallet's first buy of this token pays the account's rent (an ATA create instruction)."""
        self.accounts.touch(self.token_account)
        if not self.tx.new_token_account:
            return
        inner: list[Json] = [{"accounts": [self.token.mint], "data": "84eT", "programId": TOKEN_PROGRAM}]
        self._native(self.wallet, self.token_account, TOKEN_ACCOUNT_RENT, inner)
        inner.append({"accounts": [self.token_account], "data": "P", "programId": TOKEN_PROGRAM})
        self.instructions.append({"accounts": [self.wallet, self.token_account, self.wallet, self.token.mint,
                                               SYSTEM_PROGRAM, TOKEN_PROGRAM],
                                  "data": "2", "programId": ATA_PROGRAM, "innerInstructions": inner})

    def _close_token_account(self) -> None:
        """A full exit that closes the token account: its rent goes back to the wallet."""
        if not self.tx.close_token_account:
            return
        self._native(self.token_account, self.wallet, TOKEN_ACCOUNT_RENT)
        self.instructions.append(self._instruction(TOKEN_PROGRAM, [self.token_account, self.wallet, self.wallet], [],
                                                   data="A"))

    def _open_temp_wsol(self, temp: str, *, wrap: int, with_seed: bool = False) -> None:
        """Create a temporary wSOL account (rent) and wrap `wrap` lamports into it."""
        inner: list[Json] = []
        self.accounts.touch(temp)
        self._native(self.wallet, temp, TOKEN_ACCOUNT_RENT + (wrap if with_seed else 0), inner)
        if wrap and not with_seed:
            self._native(self.wallet, temp, wrap, inner)
        if wrap:
            self.accounts.balance(temp, self.wallet, WSOL_MINT, wrap, SOL_DECIMALS)
        program = SYSTEM_PROGRAM if with_seed else ATA_PROGRAM
        self.instructions.append(self._instruction(program, [self.wallet, temp, WSOL_MINT], inner))

    def _close_temp_wsol(self, temp: str, *, refund: int) -> None:
        """Close the temporary wSOL account: rent plus any wSOL left in it go back as SOL."""
        self._native(temp, self.wallet, TOKEN_ACCOUNT_RENT + refund)
        if refund:
            self.accounts.balance(temp, self.wallet, WSOL_MINT, -refund, SOL_DECIMALS)
        self.instructions.append(self._instruction(TOKEN_PROGRAM, [temp, self.wallet, self.wallet], [], data="A"))

    def _instruction(self, program: str, accounts: list[str], inner: list[Json], data: str | None = None) -> Json:
        return {"accounts": accounts, "data": data if data is not None else self._data(self.rng.randint(14, 28)),
                "programId": program, "innerInstructions": inner}

    def _swap_instruction(self, program: str, pool: str, inner: list[Json]) -> Json:
        return self._instruction(program, [TOKEN_PROGRAM, pool, self.wallet, self.token_account,
                                           token_account(self.wallet, WSOL_MINT), self.token.mint], inner)

    def _compute_budget(self) -> Json:
        return {"accounts": [], "data": self._data(self.rng.randint(5, 12)), "programId": COMPUTE_BUDGET,
                "innerInstructions": []}

    def _data(self, length: int) -> str:
        return _filler(self.rng, length)

    def _symbol(self, mint: str) -> str:
        return _SYMBOLS.get(mint, self.token.symbol)

    def render(self) -> Json:
        tx = self.tx
        return {
            "description": self.description,
            "type": self.type,
            "source": self.source,
            "fee": tx.network_fee,
            "feePayer": tx.fee_payer,
            "signature": tx.signature,
            "slot": tx.slot,
            "timestamp": tx.timestamp,
            "tokenTransfers": self.token_transfers,
            "nativeTransfers": self.native_transfers,
            "accountData": self.accounts.render(),
            "transactionError": self.error,
            "instructions": self.instructions,
            "events": self.events,
        }


class _Pool:
    """An AMM pool: its own address owns one reserve account per mint."""

    def __init__(self, owner: str) -> None:
        self.owner = owner

    def account(self, mint: str) -> str:
        return token_account(self.owner, mint)


def _second_venue(tx: SimTransaction) -> str:
    return JUPITER_VENUES[(JUPITER_VENUES.index(tx.venue) + 1 + tx.salt % 3) % len(JUPITER_VENUES)]


def _sol_transfer(tx: SimTransaction) -> Json:
    sender, recipient = (tx.wallet, tx.counterparty) if tx.side == "out" else (tx.counterparty, tx.wallet)
    rng = random.Random(tx.salt)
    return {
        "description": f"{sender} transferred {_ui_text(tx.quote_raw, SOL_DECIMALS)} SOL to {recipient}.",
        "type": "TRANSFER",
        "source": "SYSTEM_PROGRAM",
        "fee": tx.network_fee,
        "feePayer": sender,
        "signature": tx.signature,
        "slot": tx.slot,
        "timestamp": tx.timestamp,
        "tokenTransfers": [],
        "nativeTransfers": [_native_transfer(sender, recipient, tx.quote_raw)],
        "accountData": [
            {"account": sender, "nativeBalanceChange": -(tx.quote_raw + tx.network_fee), "tokenBalanceChanges": []},
            {"account": recipient, "nativeBalanceChange": tx.quote_raw, "tokenBalanceChanges": []},
            {"account": SYSTEM_PROGRAM, "nativeBalanceChange": 0, "tokenBalanceChanges": []},
            {"account": COMPUTE_BUDGET, "nativeBalanceChange": 0, "tokenBalanceChanges": []},
        ],
        "transactionError": None,
        "instructions": [
            {"accounts": [], "data": _filler(rng, 12), "programId": COMPUTE_BUDGET, "innerInstructions": []},
            {"accounts": [], "data": _filler(rng, 6), "programId": COMPUTE_BUDGET, "innerInstructions": []},
            {"accounts": [sender, recipient], "data": _filler(rng, 16), "programId": SYSTEM_PROGRAM,
             "innerInstructions": []},
        ],
        "events": {},
    }


def _spl_transfer(tx: SimTransaction, token: Token) -> Json:
    """A wallet-app token transfer (Helius source PHANTOM), opening the recipient's account if needed."""
    sender, recipient = (tx.wallet, tx.counterparty) if tx.side == "out" else (tx.counterparty, tx.wallet)
    opens = tx.counterparty_new_account if tx.side == "out" else tx.new_token_account
    source, destination = token_account(sender, token.mint), token_account(recipient, token.mint)
    rng = random.Random(tx.salt)
    native = [_native_transfer(sender, destination, TOKEN_ACCOUNT_RENT)] if opens else []
    rent = TOKEN_ACCOUNT_RENT if opens else 0
    instructions = [
        {"accounts": [], "data": _filler(rng, 12), "programId": COMPUTE_BUDGET, "innerInstructions": []},
        {"accounts": [], "data": _filler(rng, 6), "programId": COMPUTE_BUDGET, "innerInstructions": []},
    ]
    if opens:
        instructions.append({"accounts": [sender, destination, recipient, token.mint, SYSTEM_PROGRAM, TOKEN_PROGRAM],
                             "data": "", "programId": ATA_PROGRAM, "innerInstructions": [
                                 {"accounts": [token.mint], "data": "84eT", "programId": TOKEN_PROGRAM},
                                 {"accounts": [sender, destination], "data": _filler(rng, 10),
                                  "programId": SYSTEM_PROGRAM},
                                 {"accounts": [destination], "data": "P", "programId": TOKEN_PROGRAM},
                             ]})
    instructions.append({"accounts": [source, token.mint, destination, sender], "data": _filler(rng, 10),
                         "programId": TOKEN_PROGRAM, "innerInstructions": []})
    amount = _ui_text(tx.token_raw, token.decimals)
    return {
        "description": f"{sender} transferred {amount} {token.symbol} to {recipient}.",
        "type": "TRANSFER",
        "source": "PHANTOM",
        "fee": tx.network_fee,
        "feePayer": sender,
        "signature": tx.signature,
        "slot": tx.slot,
        "timestamp": tx.timestamp,
        "tokenTransfers": [_token_transfer(source, destination, sender, recipient, tx.token_raw, token.decimals,
                                           token.mint)],
        "nativeTransfers": native,
        "accountData": [
            {"account": sender, "nativeBalanceChange": -(tx.network_fee + rent), "tokenBalanceChanges": []},
            {"account": destination, "nativeBalanceChange": rent,
             "tokenBalanceChanges": [_balance(recipient, destination, tx.token_raw, token.decimals, token.mint)]},
            {"account": source, "nativeBalanceChange": 0,
             "tokenBalanceChanges": [_balance(sender, source, -tx.token_raw, token.decimals, token.mint)]},
            {"account": COMPUTE_BUDGET, "nativeBalanceChange": 0, "tokenBalanceChanges": []},
            {"account": token.mint, "nativeBalanceChange": 0, "tokenBalanceChanges": []},
            {"account": TOKEN_PROGRAM, "nativeBalanceChange": 0, "tokenBalanceChanges": []},
        ],
        "transactionError": None,
        "instructions": instructions,
        "events": {},
    }


def _token_transfer(source: str, destination: str, source_owner: str, destination_owner: str, raw: int,
                    decimals: int, mint: str) -> Json:
    return {
        "fromTokenAccount": source,
        "toTokenAccount": destination,
        "fromUserAccount": source_owner,
        "toUserAccount": destination_owner,
        "tokenAmount": _ui_number(raw, decimals),
        "mint": mint,
        "tokenStandard": "Fungible",
    }


def _native_transfer(source: str, destination: str, lamports: int) -> Json:
    return {"fromUserAccount": source, "toUserAccount": destination, "amount": lamports}


def _balance(owner: str, account: str, raw: int, decimals: int, mint: str) -> Json:
    return {"userAccount": owner, "tokenAccount": account,
            "rawTokenAmount": {"tokenAmount": str(raw), "decimals": decimals}, "mint": mint}


def _inner_swap(inputs: list[Json], outputs: list[Json], venue: str) -> Json:
    source, program = _VENUES[venue]
    return {"tokenInputs": inputs, "tokenOutputs": outputs, "tokenFees": [], "nativeFees": [],
            "programInfo": {"source": source, "account": program, "programName": venue,
                            "instructionName": "SwapEvent"}}


def _empty_swap_event() -> Json:
    return {"nativeInput": None, "nativeOutput": None, "tokenInputs": [], "tokenOutputs": [], "nativeFees": [],
            "tokenFees": [], "innerSwaps": []}


def _ui_number(raw: int, decimals: int) -> int | float:
    """A UI amount as Helius writes it: a JSON number, integral ones without a fraction (like JS)."""
    whole, fraction = divmod(raw, 10**decimals)
    if fraction == 0:
        return whole
    return float(Decimal(raw).scaleb(-decimals))


def _ui_text(raw: int, decimals: int) -> str:
    """A UI amount in plain decimal notation without trailing zeros, as in Helius descriptions."""
    text = format(Decimal(raw).scaleb(-decimals), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _decimals(mint: str, token_decimals: int = 0) -> int:
    if mint == WSOL_MINT:
        return SOL_DECIMALS
    if mint in (USDC_MINT, USDT_MINT):
        return STABLE_DECIMALS
    return token_decimals


# Instruction data is opaque base58 to every consumer; slicing one random string is ~20x cheaper
# than drawing each character, and payloads are built for every history page served.
_FILLER = "".join(random.Random("aura-sim:instruction data").choices(ALPHABET, k=8192))


def _filler(rng: random.Random, length: int) -> str:
    start = rng.randrange(len(_FILLER) - length)
    return _FILLER[start : start + length]


# --- Market data: Birdeye, DexScreener, Jupiter ---------------------------------------------------

# Birdeye `type` values of /defi/history_price, in seconds.
BIRDEYE_INTERVALS = {
    "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1H": 3600, "2H": 7200, "4H": 14_400,
    "6H": 21_600, "8H": 28_800, "12H": 43_200, "1D": 86_400, "3D": 259_200, "1W": 604_800, "1M": 2_592_000,
}
HISTORY_PRICE_MAX_ITEMS = 1000
# token_overview's windows, as in Birdeye's example: price history has all ten, wallet and trade
# statistics skip 6h and 12h.
_PRICE_FRAMES = (("1m", 1), ("5m", 5), ("30m", 30), ("1h", 60), ("2h", 120), ("4h", 240), ("6h", 360),
                 ("8h", 480), ("12h", 720), ("24h", 1440))
_STAT_FRAMES = (("1m", 1), ("5m", 5), ("30m", 30), ("1h", 60), ("2h", 120), ("4h", 240), ("8h", 480),
                ("24h", 1440))


class MarketData:
    """Prices and market statistics of the market's assets at a moment, in each vendor's shape.

    `now` is the present: nothing later is ever revealed. An asset is "known" once listed
    (`price()` is None before its launch minute or for mints the market does not have).
    """

    def __init__(self, market: Market, now: float) -> None:
        self.market = market
        self.now = int(now)
        self.minute = market.minute_of(self.now)

    def asset(self, mint: str) -> Token | None:
        token = self.market.assets.get(mint)
        if token is None or self.minute < token.launch_minute:
            return None
        return token

    def price(self, mint: str, minutes_ago: int = 0) -> float | None:
        """USD price `minutes_ago` before now (at the listing price if that is before its launch)."""
        token = self.asset(mint)
        if token is None:
            return None
        return self.market.paths[mint].at(max(self.minute - minutes_ago, token.launch_minute))

    def change_percent(self, mint: str, minutes: int) -> float:
        now, then = self.price(mint), self.price(mint, minutes)
        return (now / then - 1) * 100 if now and then else 0.0

    def liquidity(self, token: Token) -> float:
        """Pool liquidity in USD: deeper for big names, thinner as price falls, gone after a rug."""
        depth_range = {"quote": (5e8, 0.0), "bluechip": (2e6, 4e7), "meme": (5e4, 2e6), "pump": (2e4, 4e5)}
        low, spread = depth_range[token.kind]
        base = low + spread * _unit(token.mint, "liquidity")
        if token.mint == WSOL_MINT:
            base = 7e9
        price = self.price(token.mint) or token.reference_price
        depth = base * math.sqrt(price / token.reference_price)
        if self.market.is_rugged(token, self.minute):
            depth *= 0.004
        return round(depth, 2)

    def volume(self, token: Token, minutes: int) -> float:
        """USD traded in the last `minutes`: turnover of liquidity, more when the price moves."""
        turnover = 0.4 + 2.5 * _unit(token.mint, "turnover", str(self.minute // 60))
        move = abs(self.change_percent(token.mint, minutes)) / 100
        return round(self.liquidity(token) * turnover * (minutes / 1440) * (1 + 4 * move), 2)

    def trades(self, token: Token, minutes: int, history: bool = False) -> tuple[int, int]:
        """(buys, sells) in the last `minutes` (or the `minutes` before that when `history`)."""
        ticket = {"quote": 900.0, "bluechip": 1500.0, "meme": 250.0, "pump": 120.0}[token.kind]
        count = int(self.volume(token, minutes) / ticket * (0.8 + 0.4 * _unit(token.mint, str(minutes), str(history))))
        buy_share = 0.5 + max(-0.2, min(0.2, self.change_percent(token.mint, minutes) / 200))
        buys = int(count * buy_share)
        return buys, count - buys

    # -- Birdeye ----------------------------------------------------------------------------------------

    def birdeye_price(self, mint: str) -> Json | None:
        """`data` of /defi/price."""
        token, price = self.asset(mint), self.price(mint)
        if token is None or price is None:
            return None
        return {
            "isScaledUiToken": False,
            "value": price,
            "updateUnixTime": self._updated(),
            "updateHumanTime": _human_time(self._updated()),
            "priceChange24h": self.change_percent(mint, 1440),
            "priceInNative": self._in_sol(mint),
            "liquidity": self.liquidity(token),
        }

    def birdeye_multi_price(self, mints: Iterable[str]) -> Json:
        """`data` of /defi/multi_price: every asked mint, null when unknown."""
        prices: Json = {}
        for mint in mints:
            single = self.birdeye_price(mint)
            prices[mint] = None if single is None else {
                "isScaledUiToken": False, "value": single["value"], "updateUnixTime": single["updateUnixTime"],
                "updateHumanTime": single["updateHumanTime"], "priceInNative": single["priceInNative"],
                "priceChange24h": single["priceChange24h"], "liquidity": single["liquidity"],
            }
        return prices

    def birdeye_history_price(self, mint: str, interval: int, time_from: int, time_to: int) -> Json:
        """`data` of /defi/history_price: one item per interval start in [time_from, time_to]."""
        items = []
        token = self.asset(mint)
        if token is not None:
            listed = self.market.start_time + max(token.launch_minute, 0) * MINUTE
            first = max(time_from, listed)
            moment = -(-first // interval) * interval
            last = min(time_to, self.now)
            path = self.market.paths[mint]
            while moment <= last and len(items) < HISTORY_PRICE_MAX_ITEMS:
                items.append({"unixTime": moment, "value": path.at(self.market.minute_of(moment))})
                moment += interval
        return {"isScaledUiToken": False, "items": items}

    def birdeye_historical_price_unix(self, mint: str, unixtime: int) -> Json | None:
        """`data` of /defi/historical_price_unix: the price at `unixtime` (capped at now)."""
        moment = min(unixtime, self.now)
        then = MarketData(self.market, moment)
        token, price = then.asset(mint), then.price(mint)
        if token is None or price is None:
            return None
        return {"isScaledUiToken": False, "value": price, "updateUnixTime": moment // MINUTE * MINUTE,
                "priceChange24h": then.change_percent(mint, 1440)}

    def birdeye_token_overview(self, mint: str) -> Json | None:
        """`data` of /defi/token_overview, with the keys of Birdeye's example in the same order."""
        token, price = self.asset(mint), self.price(mint)
        if token is None or price is None:
            return None
        supply = token.supply * (1.12 if token.kind in ("quote", "bluechip") else 1.0)
        last_trade = self.now - int(40 * _unit(mint, "last trade", str(self.minute)))
        overview: Json = {
            "address": mint,
            "decimals": token.decimals,
            "symbol": token.symbol,
            "name": token.name,
            "marketCap": price * token.supply,
            "fdv": price * supply,
            "extensions": {
                "coingeckoId": token.name.lower().replace(" ", "-") if token.kind in ("quote", "bluechip") else None,
                "serumV3Usdc": None,
                "serumV3Usdt": None,
                "website": token.website,
                "telegram": None,
                "twitter": f"https://twitter.com/{_handle(token)}",
                "description": f"{token.name} ({token.symbol})",
                "discord": None,
                "medium": None,
            },
            "logoURI": _logo(token),
            "liquidity": self.liquidity(token),
            "lastTradeUnixTime": last_trade,
            "lastTradeHumanTime": _human_time(last_trade),
            "price": price,
        }
        for name, minutes in _PRICE_FRAMES:
            overview[f"history{name}Price"] = self.price(mint, minutes)
            overview[f"priceChange{name}Percent"] = self.change_percent(mint, minutes)
        holders = int(token.supply ** 0.35 * (1 + _unit(mint, "holders")))
        for name, minutes in _STAT_FRAMES:
            now_wallets = max(1, int(holders * 0.002 * minutes ** 0.7))
            before = max(1, int(now_wallets * (0.7 + 0.6 * _unit(mint, "wallets", name, str(self.minute // 60)))))
            overview[f"uniqueWallet{name}"] = now_wallets
            overview[f"uniqueWalletHistory{name}"] = before
            overview[f"uniqueWallet{name}ChangePercent"] = _percent(now_wallets, before)
        overview["totalSupply"] = supply
        overview["circulatingSupply"] = token.supply
        overview["holder"] = holders
        for name, minutes in _STAT_FRAMES:
            overview.update(self._trade_stats(token, name, minutes, price))
        overview["numberMarkets"] = 1 + int(40 * _unit(mint, "markets")) if token.kind != "quote" else 150_744
        overview["isScaledUiToken"] = False
        overview["multiplier"] = None
        return overview

    def birdeye_token_trending(self, sort_by: str, sort_type: str, offset: int, limit: int) -> Json:
        """`data` of /defi/token_trending (SOL and stablecoins are never trending)."""
        listed = [t for t in self.market.tokens if self.asset(t.mint) and not self.market.is_rugged(t, self.minute)]
        heat = {t.mint: self.volume(t, 1440) * (1 + abs(self.change_percent(t.mint, 1440)) / 50) for t in listed}
        ranked = sorted(listed, key=lambda t: heat[t.mint], reverse=True)
        rows = []
        for rank, token in enumerate(ranked, start=1):
            price = self.price(token.mint) or 0.0
            rows.append({
                "address": token.mint,
                "decimals": token.decimals,
                "liquidity": self.liquidity(token),
                "logoURI": _logo(token),
                "name": token.name,
                "symbol": token.symbol,
                "volume24hUSD": self.volume(token, 1440),
                "volume24hChangePercent": round(100 * (_unit(token.mint, "vchange", str(self.minute // 60)) - 0.4), 2),
                "rank": rank,
                "price": price,
                "price24hChangePercent": self.change_percent(token.mint, 1440),
                "fdv": price * token.supply,
                "marketcap": price * token.supply,
            })
        key = {"rank": "rank", "volumeUSD": "volume24hUSD", "volume24hUSD": "volume24hUSD", "liquidity": "liquidity"}
        rows.sort(key=lambda row: row[key.get(sort_by, "rank")], reverse=sort_type == "desc")
        return {"updateUnixTime": self.now, "updateTime": _human_time(self.now),
                "tokens": rows[offset : offset + limit], "total": len(rows)}

    def _trade_stats(self, token: Token, name: str, minutes: int, price: float) -> Json:
        buys, sells = self.trades(token, minutes)
        old_buys, old_sells = self.trades(token, minutes, history=True)
        volume = self.volume(token, minutes)
        old_volume = volume * (0.6 + 0.8 * _unit(token.mint, "old volume", name, str(self.minute // 60)))
        buy_share = buys / (buys + sells) if buys + sells else 0.5
        stats: Json = {
            f"trade{name}": buys + sells, f"tradeHistory{name}": old_buys + old_sells,
            f"trade{name}ChangePercent": _percent(buys + sells, old_buys + old_sells),
            f"sell{name}": sells,
            f"sellHistory{name}": old_sells,
            f"sell{name}ChangePercent": _percent(sells, old_sells),
            f"buy{name}": buys,
            f"buyHistory{name}": old_buys,
            f"buy{name}ChangePercent": _percent(buys, old_buys),
        }
        for prefix, share in (("v", 1.0), ("vBuy", buy_share), ("vSell", 1 - buy_share)):
            now_usd, old_usd = volume * share, old_volume * share
            stats[f"{prefix}{name}"] = now_usd / price
            stats[f"{prefix}{name}USD"] = now_usd
            stats[f"{prefix}History{name}"] = old_usd / price
            stats[f"{prefix}History{name}USD"] = old_usd
            stats[f"{prefix}{name}ChangePercent"] = _percent(now_usd, old_usd)
        return stats

    def _in_sol(self, mint: str) -> float | int:
        if mint == WSOL_MINT:
            return 1
        return (self.price(mint) or 0.0) / (self.price(WSOL_MINT) or 1.0)

    def _updated(self) -> int:
        return self.now // MINUTE * MINUTE

    # -- DexScreener ------------------------------------------------------------------------------------

    def dexscreener_pairs(self, mints: Iterable[str]) -> list[Json]:
        """Every pool of the given mints (each pool once), biggest liquidity first per mint."""
        pairs: list[Json] = []
        seen: set[str] = set()
        for mint in mints:
            for pair in self._pairs_of(mint):
                if pair["pairAddress"] not in seen:
                    seen.add(pair["pairAddress"])
                    pairs.append(pair)
        return pairs

    def _pairs_of(self, mint: str) -> list[Json]:
        token = self.asset(mint)
        if token is None:
            return []
        if token.kind == "quote":
            sol = self.market.assets[WSOL_MINT]
            return [self._pair(sol, self.market.assets[USDC_MINT], "raydium", None, share=1.0)]
        sol, usdc = self.market.assets[WSOL_MINT], self.market.assets[USDC_MINT]
        if token.kind == "pump":
            graduated = token.graduation_minute is None or self.minute >= token.graduation_minute
            return [self._pair(token, sol, "pumpswap" if graduated else "pumpfun", None, share=1.0)]
        if token.kind == "meme":
            return [self._pair(token, sol, "raydium", None, share=0.85), self._pair(token, sol, "meteora", "DYN", 0.15)]
        return [self._pair(token, sol, "raydium", "CLMM", share=0.6), self._pair(token, usdc, "orca", "wp", 0.4)]

    def _pair(self, base: Token, quote: Token, dex: str, label: str | None, share: float) -> Json:
        address = derived_address("dexscreener pair", dex, base.mint, quote.mint)
        base_usd, quote_usd = self.price(base.mint) or 0.0, self.price(quote.mint) or 1.0
        liquidity = self.liquidity(base) * share
        pair: Json = {
            "chainId": "solana",
            "dexId": dex,
            "url": f"https://dexscreener.com/solana/{address.lower()}",
            "pairAddress": address,
        }
        if label:
            pair["labels"] = [label]
        buys_sells = {frame: dict(zip(("buys", "sells"), self._scaled_trades(base, minutes, share), strict=True))
                      for frame, minutes in (("m5", 5), ("h1", 60), ("h6", 360), ("h24", 1440))}
        pair.update({
            "baseToken": {"address": base.mint, "name": base.name, "symbol": base.symbol},
            "quoteToken": {"address": quote.mint, "name": quote.name, "symbol": quote.symbol},
            "priceNative": _significant(base_usd / quote_usd),
            "priceUsd": _significant(base_usd),
            "txns": buys_sells,
            "volume": {frame: round(self.volume(base, minutes) * share, 2)
                       for frame, minutes in (("h24", 1440), ("h6", 360), ("h1", 60), ("m5", 5))},
            "priceChange": {frame: round(self.change_percent(base.mint, minutes), 2)
                            for frame, minutes in (("m5", 5), ("h1", 60), ("h6", 360), ("h24", 1440))},
            "liquidity": {"usd": round(liquidity, 2), "base": round(liquidity / 2 / base_usd) if base_usd else 0,
                          "quote": round(liquidity / 2 / quote_usd, 4)},
        })
        if base.kind != "quote":
            pair["fdv"] = round(base_usd * base.supply * (1.12 if base.kind == "bluechip" else 1.0))
            pair["marketCap"] = round(base_usd * base.supply)
        created = self.market.start_time + base.launch_minute * MINUTE
        if base.kind == "pump" and dex == "pumpswap" and base.graduation_minute is not None:
            created = self.market.start_time + base.graduation_minute * MINUTE
        pair["pairCreatedAt"] = created * 1000
        pair["info"] = {
            "imageUrl": f"https://dd.dexscreener.com/ds-data/tokens/solana/{base.mint}.png?key={_image_key(base)}",
            "header": f"https://dd.dexscreener.com/ds-data/tokens/solana/{base.mint}/header.png",
            "openGraph": f"https://cdn.dexscreener.com/token-images/og/solana/{base.mint}?timestamp={self.now * 1000}",
            "websites": [{"label": "Website", "url": base.website}] if base.website else [],
            "socials": [{"type": "twitter", "url": f"https://x.com/{_handle(base)}"}],
        }
        return pair

    def _scaled_trades(self, token: Token, minutes: int, share: float) -> tuple[int, int]:
        buys, sells = self.trades(token, minutes)
        return int(buys * share), int(sells * share)

    # -- Jupiter ------------------------------------------------------------------------------------------

    def jupiter_prices(self, mints: Iterable[str]) -> Json:
        """/price/v3: mint -> price; unknown mints and tokens rugged over a day ago are left out."""
        prices: Json = {}
        for mint in dict.fromkeys(mints):
            token, price = self.asset(mint), self.price(mint)
            if token is None or price is None:
                continue
            if token.rug_minute is not None and self.minute >= token.rug_minute + DAY_MINUTES:
                continue  # "tokens without a reliable price are omitted" (no trades, flagged)
            created = self.market.start_time + min(token.launch_minute, 0) * MINUTE
            prices[mint] = {
                "usdPrice": price,
                "blockId": self.market.slot_at(self.now),
                "decimals": token.decimals,
                "priceChange24h": self.change_percent(mint, 1440),
                "createdAt": datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "liquidity": self.liquidity(token),
            }
        return prices


def _unit(*parts: str) -> float:
    """A stable pseudo-random number in [0, 1) named by `parts`."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _percent(now: float, before: float) -> float:
    return (now / before - 1) * 100 if before else 0.0


def _human_time(unix: int) -> str:
    """Birdeye's human time: ISO 8601 without a zone (it is UTC)."""
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _significant(value: float) -> str:
    """DexScreener's price text: four significant digits in plain notation, e.g. "0.000002506"."""
    if value <= 0:
        return "0"
    text = format(Decimal(f"{value:.4g}"), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _image_key(token: Token) -> int:
    return int(_unit(token.mint, "image key") * 1_000_000)


def _logo(token: Token) -> str:
    return f"https://ipfs.io/ipfs/Qm{derived_address('logo', token.mint)[:44]}"


def _handle(token: Token) -> str:
    cleaned = "".join(ch for ch in token.name if ch.isascii() and ch.isalnum())
    return (cleaned or "token")[:15]
