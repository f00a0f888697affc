"""Helius enhanced transactions built from the market's transactions.

Shapes, key order and value types are copied from the real payloads in tests/fixtures/: Helius
`tokenTransfers[].tokenAmount` is a UI-unit number, `rawTokenAmount.tokenAmount` a string of base
units, `nativeBalanceChange` an int, and `events.swap.*.amount` strings. Each venue's SOL leg
(temporary wSOL accounts, rent, fees that only `nativeTransfers` show) looks as it does on chain.

Pure functions of a `Market` and a `SimTransaction`; instruction `data` is random filler drawn
from the transaction's own salt, so a payload is the same every time it is built.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from simulator.base58 import ALPHABET, derived_address
from simulator.market import (
    JUPITER_VENUES,
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
    "pumpfun": ("TRANSFER", "SYSTEM_PROGRAM"),  # pump.fun curve trades arrive unparsed from Helius
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
