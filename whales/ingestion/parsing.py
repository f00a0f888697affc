"""Turn one Helius enhanced transaction into the swaps a tracked wallet made in it.

Pure: plain dicts in, `ParsedSwap` out, no Django. The recipe: a trade is read from
the wallet's OWN balance changes (its SOL account and the token accounts it owns), never from the
transaction's `type`, `source` or `description`, because Helius types pump.fun buys as `TRANSFER`
and sends PumpSwap trades with empty `events`. Routes count once, by net effect: an intermediate
mint nets to zero for the wallet or never touches it. `accounts_involved` says, without parsing and
without ever refusing, which addresses a transaction may concern (to pick the tracked wallets to
parse it for).

Data decisions (for the README's data notes):

* A token↔token swap (e.g. JUP→BONK, or any transaction that moves two or more non-quote tokens for
  the wallet) is skipped: neither side is priced in USDC, USDT or SOL, so recording it would need a
  USD valuation of both tokens at that moment, and a guessed cost basis would corrupt FIFO P&L
  more than a missing trade does.
* `quote_amount` is what the wallet actually paid or received: platform, launchpad and trading-bot
  fees are included (they are part of the trade's cost), the network fee and the rent the wallet
  puts into (or takes back from) its own token accounts are excluded (the fee is not a price, and
  the rent comes back when the account is closed).
* SOL and wrapped SOL are one asset and are reported under the wSOL mint. Quote priority is USDC,
  then USDT, then SOL, so SOL↔USDC is a trade of SOL quoted in USDC.
* A non-fungible token moving for the wallet (an NFT sale) is not a swap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from whales.solana import QUOTE_MINTS, USDC_MINT, USDT_MINT, WSOL_MINT

SOL_DECIMALS = 9
_KNOWN_DECIMALS = {WSOL_MINT: SOL_DECIMALS, USDC_MINT: 6, USDT_MINT: 6}
# A quote leg smaller than this (10,000 lamports, $0.00001) is a tip or rounding, not a price.
_QUOTE_DUST = Decimal("0.00001")
_MAX_DECIMALS = 255  # SPL mints store decimals in a u8
_RAW_AMOUNT = re.compile(r"-?[0-9]{1,40}")
_MAX_RAW = 10**40
# Lamports, slots and times are 64-bit on chain. A wider integer is garbage, and refusing it where it
# is read also keeps Python's int-to-text limit (4,300 digits) from raising a bare ValueError later.
_MAX_INT = 2**64
# Prices are quotients and need rounding somewhere; amounts never do (they are built exactly).
_PRICE_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
_WIDE_CONTEXT = Context(prec=200, rounding=ROUND_HALF_EVEN)


class MalformedTransaction(ValueError):
    """The input is not an enhanced transaction we can read; the message is one line."""


@dataclass(frozen=True)
class ParsedSwap:
    """One buy or sell of `token_mint` by `wallet`, amounts in UI units (raw / 10**decimals)."""

    signature: str
    wallet: str
    side: str  # "buy" | "sell"
    token_mint: str
    token_amount: Decimal
    token_decimals: int
    quote_mint: str  # SOL is reported as WSOL_MINT
    quote_amount: Decimal
    quote_decimals: int
    price: Decimal  # quote per token
    block_time: int
    slot: int
    source: str

    def as_json(self) -> dict[str, str | int]:
        """The `parse_swaps` CLI shape: amounts and price as plain decimal strings."""
        return {
            "signature": self.signature,
            "wallet": self.wallet,
            "side": self.side,
            "token_mint": self.token_mint,
            "token_amount": decimal_string(self.token_amount),
            "quote_mint": self.quote_mint,
            "quote_amount": decimal_string(self.quote_amount),
            "price": decimal_string(self.price),
            "block_time": self.block_time,
            "source": self.source,
        }


@dataclass(frozen=True)
class ParsedTransfer:
    """Tokens that came into (`direction` "in") or left ("out") `wallet` without a trade: a transfer,
    an airdrop, a liquidity deposit or withdrawal. Quote assets (SOL, USDC, USDT) are not counted:
    moving money around is not a position."""

    signature: str
    wallet: str
    direction: str  # "in" | "out"
    token_mint: str
    token_amount: Decimal
    token_decimals: int
    block_time: int
    slot: int
    source: str


def decimal_string(value: Decimal) -> str:
    """`value` without exponent notation or trailing zeros: Decimal("5.35E-7") -> "0.000000535"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def fee_payer(tx: dict) -> str | None:
    """The account that paid the network fee, or None when the payload does not say."""
    if not isinstance(tx, dict):
        raise MalformedTransaction(f"expected a transaction object, got {_type_name(tx)}")
    return _optional_str(tx, "feePayer", "feePayer") or None


def accounts_involved(tx: dict) -> set[str]:
    """Every address in `tx` that could be a wallet taking part: the fee payer, each account with a
    balance change, each token account owner, and both ends of each token and native transfer.

    A superset (programs, pools and token accounts come along); intersect it with the tracked
    wallets. Never raises: a field of the wrong type is skipped, because one garbled field must not
    stop the rest of a webhook delivery from reaching the wallets it concerns. A non-dict gives set().
    """
    if not isinstance(tx, dict):
        return set()
    found: set[str] = set()

    def note(value: Any) -> None:
        if isinstance(value, str) and value:
            found.add(value)

    note(tx.get("feePayer"))
    for entry in _objects_in(tx.get("accountData")):
        note(entry.get("account"))
        for change in _objects_in(entry.get("tokenBalanceChanges")):
            note(change.get("userAccount"))
    for transfer in _objects_in(tx.get("tokenTransfers")) + _objects_in(tx.get("nativeTransfers")):
        note(transfer.get("fromUserAccount"))
        note(transfer.get("toUserAccount"))
    return found


def _objects_in(value: Any) -> list[dict]:
    """The dicts in `value` when it is a list; anything else holds none."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def parse_swaps(tx: dict, wallet: str) -> list[ParsedSwap]:
    """The swaps `wallet` made in `tx` (usually zero or one); raises MalformedTransaction."""
    return parse_activity(tx, wallet)[0]


def parse_activity(tx: dict, wallet: str) -> tuple[list[ParsedSwap], list[ParsedTransfer]]:
    """What `wallet` did in `tx`: its swaps, or else the one token that moved in or out without a
    trade. A transaction moving two or more tokens and no quote asset (token↔token) yields neither.
    Raises MalformedTransaction."""
    payload = _read_transaction(tx)
    if payload.failed or not wallet:
        return [], []
    if _moves_non_fungible(payload, wallet):
        return [], []
    legs = _wallet_legs(payload, wallet)
    trade = _pick_trade(legs)
    if trade is not None:
        return [_swap(payload, wallet, *trade)], []
    tokens = [mint for mint in legs if mint not in QUOTE_MINTS]
    if len(tokens) != 1:
        return [], []
    return [], [_transfer(payload, wallet, tokens[0], legs[tokens[0]])]


# --- What the wallet's balances did ---------------------------------------------------------------


@dataclass(frozen=True)
class _Leg:
    """A net balance change of one asset, in base units (lamports for SOL)."""

    raw: int
    decimals: int

    @property
    def amount(self) -> Decimal:
        return Decimal(f"{self.raw}E-{self.decimals}")  # built from text, so exact at any size

    def is_negligible(self, mint: str) -> bool:
        if self.raw == 0:
            return True
        return mint in QUOTE_MINTS and abs(self.amount) < _QUOTE_DUST


def _wallet_legs(payload: _Payload, wallet: str) -> dict[str, _Leg]:
    legs = _token_legs(payload, wallet)
    legs[WSOL_MINT] = _Leg(_sol_change(payload, wallet), SOL_DECIMALS)
    return {mint: leg for mint, leg in legs.items() if not leg.is_negligible(mint)}


def _token_legs(payload: _Payload, wallet: str) -> dict[str, _Leg]:
    """Net change per mint (wSOL aside) from the wallet's token accounts; tokenTransfers fill gaps."""
    legs: dict[str, _Leg] = {}
    for change in payload.balance_changes:
        if change.owner == wallet and change.mint != WSOL_MINT:
            previous = legs.get(change.mint, _Leg(0, change.decimals))
            if previous.decimals != change.decimals:
                raise MalformedTransaction(
                    f"mint {change.mint!r:.60} has decimals {previous.decimals} and {change.decimals}"
                )
            legs[change.mint] = _Leg(previous.raw + change.raw, change.decimals)
    for mint, amount in _transferred_to(payload, wallet).items():
        if mint not in legs and mint != WSOL_MINT:
            decimals = _decimals_of(payload, mint, amount)
            legs[mint] = _Leg(_to_raw(amount, decimals), decimals)
    return legs


def _transferred_to(payload: _Payload, wallet: str) -> dict[str, Decimal]:
    """Net UI amount per mint that tokenTransfers moved into (+) or out of (-) the wallet."""
    net: dict[str, Decimal] = {}
    for transfer in payload.token_transfers:
        if transfer.to_owner == wallet:
            net[transfer.mint] = net.get(transfer.mint, Decimal(0)) + transfer.amount
        if transfer.from_owner == wallet:
            net[transfer.mint] = net.get(transfer.mint, Decimal(0)) - transfer.amount
    return net


def _sol_change(payload: _Payload, wallet: str) -> int:
    """Lamports of SOL + wSOL the wallet gained (+) or spent (-) on trading in this transaction.

    The wallet's own balances come first. Only when they are absent or flat (abridged payloads)
    do the swap event and then the wSOL tokenTransfers speak, in that order.
    """
    from_balances = _sol_change_from_balances(payload, wallet)
    if from_balances:
        return from_balances
    return _sol_change_from_swap_event(payload, wallet) or _sol_change_from_wsol_transfers(payload, wallet)


def _sol_change_from_balances(payload: _Payload, wallet: str) -> int | None:
    """All-in SOL change (system account + wSOL accounts), network fee and own-account rent removed.

    None when the payload shows neither the wallet's account nor any wSOL account it owns.
    """
    own = [account for account in payload.accounts if account.account == wallet]
    wrapped = [c for c in payload.balance_changes if c.owner == wallet and c.mint == WSOL_MINT]
    if not own and not wrapped:
        return None
    lamports = sum(account.lamports for account in own) + sum(change.raw for change in wrapped)
    if own and payload.fee_payer == wallet:
        lamports += payload.fee
    return lamports + _rent_into_own_token_accounts(payload, wallet)


def _rent_into_own_token_accounts(payload: _Payload, wallet: str) -> int:
    """Lamports the wallet parked as rent in token accounts it owns (net of rent it took back).

    A token account's lamports are rent plus, for wSOL, the wrapped balance; what is left after the
    wrapped balance is rent. Only rent the wallet itself paid (nativeTransfers from the wallet) or
    was refunded (to the wallet) counts: a relayer that opens our account cost us nothing. When the
    payload lists no lamports moving into (or out of) the account at all, the fee payer is taken to
    have paid (or been refunded) the rent: it opens and closes the token accounts in nearly every
    transaction, and Helius leaves some system transfers out of `nativeTransfers`. A temp wSOL
    account opened and closed in one transaction nets to zero and needs no special case.
    """
    lamports_held = {account.account: account.lamports for account in payload.accounts}
    rent = 0
    for token_account, is_wsol in _token_accounts_of(payload, wallet).items():
        paid = _native_moved(payload, wallet, token_account)
        refunded = _native_moved(payload, token_account, wallet)
        if token_account not in lamports_held:
            # Abridged payload. Into a non-wSOL account the wallet only ever sends rent; into a wSOL
            # account it also sends the SOL it wraps, which cannot be told apart from rent.
            rent += 0 if is_wsol else paid - refunded
            continue
        rent_change = lamports_held[token_account] - _wsol_change_in(payload, token_account)
        pays_fee = payload.fee_payer == wallet
        if rent_change > 0:
            if pays_fee and not _native_moved(payload, None, token_account):
                paid = rent_change
            rent += min(rent_change, paid)
        elif rent_change < 0:
            if pays_fee and not _native_moved(payload, token_account, None):
                refunded = -rent_change
            rent -= min(-rent_change, refunded)
    return rent


def _token_accounts_of(payload: _Payload, wallet: str) -> dict[str, bool]:
    """Token accounts owned by the wallet, mapped to whether they hold wSOL."""
    accounts: dict[str, bool] = {}

    def note(token_account: str | None, mint: str) -> None:
        if token_account and token_account != wallet:
            accounts[token_account] = accounts.get(token_account, False) or mint == WSOL_MINT

    for change in payload.balance_changes:
        if change.owner == wallet:
            note(change.token_account, change.mint)
    for transfer in payload.token_transfers:
        if transfer.from_owner == wallet:
            note(transfer.from_token_account, transfer.mint)
        if transfer.to_owner == wallet:
            note(transfer.to_token_account, transfer.mint)
    return accounts


def _native_moved(payload: _Payload, source: str | None, destination: str | None) -> int:
    """Lamports nativeTransfers moved from `source` to `destination`; None stands for any account."""
    return sum(
        t.lamports
        for t in payload.native_transfers
        if source in (None, t.source) and destination in (None, t.destination)
    )


def _wsol_change_in(payload: _Payload, token_account: str) -> int:
    return sum(c.raw for c in payload.balance_changes if c.token_account == token_account and c.mint == WSOL_MINT)


def _sol_change_from_swap_event(payload: _Payload, wallet: str) -> int:
    """SOL in `events.swap`, which is gross of platform fees on the output side: take them off."""
    swap = payload.swap_event
    received = _event_lamports(swap.get("nativeOutput"), wallet)
    if received:
        fees = swap.get("nativeFees")
        received -= sum(_event_lamports(fee, None) for fee in fees) if isinstance(fees, list) else 0
    return received - _event_lamports(swap.get("nativeInput"), wallet)


def _event_lamports(leg: Any, wallet: str | None) -> int:
    """Lamports of one `{account, amount}` event leg; 0 for a leg that is absent, foreign or garbled.

    The event is only a fallback signal, so a garbled one is ignored rather than refused.
    """
    if not isinstance(leg, dict) or (wallet is not None and leg.get("account") != wallet):
        return 0
    amount = leg.get("amount")
    if isinstance(amount, str) and _RAW_AMOUNT.fullmatch(amount):
        amount = int(amount)
    if isinstance(amount, int) and not isinstance(amount, bool) and 0 < amount < _MAX_INT:
        return amount
    return 0


def _sol_change_from_wsol_transfers(payload: _Payload, wallet: str) -> int:
    wrapped = _transferred_to(payload, wallet).get(WSOL_MINT, Decimal(0))
    return _to_raw(wrapped, SOL_DECIMALS)


def _moves_non_fungible(payload: _Payload, wallet: str) -> bool:
    """An NFT changed hands for the wallet: its SOL leg pays for the NFT, not for a token."""
    mints = {c.mint for c in payload.balance_changes if c.owner == wallet}
    mints |= {t.mint for t in payload.token_transfers if wallet in (t.from_owner, t.to_owner)}
    return bool(mints & payload.non_fungible_mints)


# --- Deciding the trade ---------------------------------------------------------------------------


def _pick_trade(legs: dict[str, _Leg]) -> tuple[str, _Leg, str, _Leg] | None:
    """(token mint, token leg, quote mint, quote leg), or None when the legs are not a priced trade.

    One non-quote token: it is the token, priced in the first quote (USDC, USDT, SOL) that moved
    the other way. No token: the first quote that moved prices the next one that moved the other
    way (SOL↔USDC is SOL quoted in USDC). Two or more tokens: token↔token, skipped.
    """
    tokens = [mint for mint in legs if mint not in QUOTE_MINTS]
    quotes = [mint for mint in QUOTE_MINTS if mint in legs]
    if len(tokens) == 1:
        token_mint = tokens[0]
        quote_mint = _first_opposite(legs, legs[token_mint], quotes)
    elif not tokens and quotes:
        quote_mint = quotes[0]
        token_mint = _first_opposite(legs, legs[quote_mint], quotes[1:])
    else:
        return None
    if token_mint is None or quote_mint is None:
        return None
    return token_mint, legs[token_mint], quote_mint, legs[quote_mint]


def _first_opposite(legs: dict[str, _Leg], leg: _Leg, candidates: Iterable[str]) -> str | None:
    return next((mint for mint in candidates if (legs[mint].raw > 0) != (leg.raw > 0)), None)


def _swap(payload: _Payload, wallet: str, token_mint: str, token: _Leg, quote_mint: str, quote: _Leg) -> ParsedSwap:
    if payload.timestamp is None or payload.slot is None:
        raise MalformedTransaction(f"transaction {payload.signature!r:.100} has a swap but no timestamp or slot")
    token_amount, quote_amount = abs(token.amount), abs(quote.amount)
    return ParsedSwap(
        signature=payload.signature,
        wallet=wallet,
        side="buy" if token.raw > 0 else "sell",
        token_mint=token_mint,
        token_amount=token_amount,
        token_decimals=token.decimals,
        quote_mint=quote_mint,
        quote_amount=quote_amount,
        quote_decimals=quote.decimals,
        price=_PRICE_CONTEXT.divide(quote_amount, token_amount),
        block_time=payload.timestamp,
        slot=payload.slot,
        source=payload.source,
    )


def _transfer(payload: _Payload, wallet: str, token_mint: str, token: _Leg) -> ParsedTransfer:
    if payload.timestamp is None or payload.slot is None:
        raise MalformedTransaction(f"transaction {payload.signature!r:.100} moves tokens but has no timestamp or slot")
    return ParsedTransfer(
        signature=payload.signature,
        wallet=wallet,
        direction="in" if token.raw > 0 else "out",
        token_mint=token_mint,
        token_amount=abs(token.amount),
        token_decimals=token.decimals,
        block_time=payload.timestamp,
        slot=payload.slot,
        source=payload.source,
    )


def _decimals_of(payload: _Payload, mint: str, amount: Decimal) -> int:
    """Decimals of a mint seen only in tokenTransfers: from any raw balance of it, else best guess."""
    for change in payload.balance_changes:
        if change.mint == mint:
            return change.decimals
    if mint in _KNOWN_DECIMALS:
        return _KNOWN_DECIMALS[mint]
    return max(-amount.as_tuple().exponent, 0)  # the places the UI amount shows; a lower bound


def _to_raw(amount: Decimal, decimals: int) -> int:
    return int(amount.scaleb(decimals, _WIDE_CONTEXT).to_integral_value(ROUND_HALF_EVEN))


# --- Reading the payload (every check that can refuse it lives here) ------------------------------


@dataclass(frozen=True)
class _AccountChange:
    account: str
    lamports: int


@dataclass(frozen=True)
class _BalanceChange:
    owner: str
    token_account: str
    mint: str
    raw: int
    decimals: int


@dataclass(frozen=True)
class _TokenTransfer:
    from_owner: str | None
    to_owner: str | None
    from_token_account: str | None
    to_token_account: str | None
    mint: str
    amount: Decimal


@dataclass(frozen=True)
class _NativeTransfer:
    source: str | None
    destination: str | None
    lamports: int


@dataclass(frozen=True)
class _Payload:
    signature: str
    failed: bool
    fee_payer: str | None
    fee: int
    timestamp: int | None
    slot: int | None
    source: str
    accounts: list[_AccountChange]
    balance_changes: list[_BalanceChange]
    token_transfers: list[_TokenTransfer]
    native_transfers: list[_NativeTransfer]
    non_fungible_mints: frozenset[str]
    swap_event: dict


def _read_transaction(tx: Any) -> _Payload:
    if not isinstance(tx, dict):
        raise MalformedTransaction(f"expected a transaction object, got {_type_name(tx)}")
    signature = tx.get("signature")
    if not isinstance(signature, str) or not signature:
        raise MalformedTransaction("transaction has no signature")
    fee, timestamp, slot = (_optional_int(tx, key, key) for key in ("fee", "timestamp", "slot"))
    for key, value in (("fee", fee), ("timestamp", timestamp), ("slot", slot)):
        if value is not None and value < 0:
            raise MalformedTransaction(f"{key} should not be negative, got {value}")
    accounts, balance_changes = _read_account_data(_dicts(tx, "accountData", "accountData"))
    raw_transfers = _dicts(tx, "tokenTransfers", "tokenTransfers")
    token_transfers = [_read_token_transfer(entry, f"tokenTransfers[{i}]") for i, entry in enumerate(raw_transfers)]
    events = tx.get("events") if isinstance(tx.get("events"), dict) else {}
    swap_event = events.get("swap") if isinstance(events.get("swap"), dict) else {}
    return _Payload(
        signature=signature,
        failed=bool(tx.get("transactionError")),
        fee_payer=_optional_str(tx, "feePayer", "feePayer"),
        fee=fee or 0,
        timestamp=timestamp,
        slot=slot,
        source=_optional_str(tx, "source", "source") or "",
        accounts=accounts,
        balance_changes=balance_changes,
        token_transfers=token_transfers,
        native_transfers=[
            _read_native_transfer(entry, f"nativeTransfers[{i}]")
            for i, entry in enumerate(_dicts(tx, "nativeTransfers", "nativeTransfers"))
        ],
        non_fungible_mints=_non_fungible_mints(raw_transfers, events),
        swap_event=swap_event,
    )


def _read_account_data(entries: list[dict]) -> tuple[list[_AccountChange], list[_BalanceChange]]:
    accounts: list[_AccountChange] = []
    balance_changes: list[_BalanceChange] = []
    for i, entry in enumerate(entries):
        where = f"accountData[{i}]"
        account = _optional_str(entry, "account", where)
        if not account:
            raise MalformedTransaction(f"{where}.account should be an address")
        accounts.append(_AccountChange(account, _optional_int(entry, "nativeBalanceChange", where) or 0))
        balance_changes += _read_balances(entry, account, f"{where}.tokenBalanceChanges")
    return accounts, balance_changes


def _read_balances(entry: dict, account: str, where: str) -> list[_BalanceChange]:
    changes = []
    for i, change in enumerate(_dicts(entry, "tokenBalanceChanges", where)):
        here = f"{where}[{i}]"
        owner = _optional_str(change, "userAccount", here)
        mint = _optional_str(change, "mint", here)
        if not owner or not mint:
            raise MalformedTransaction(f"{here} should have a userAccount and a mint")
        token_account = _optional_str(change, "tokenAccount", here) or account
        raw, decimals = _read_raw_amount(change.get("rawTokenAmount"), f"{here}.rawTokenAmount")
        changes.append(_BalanceChange(owner, token_account, mint, raw, decimals))
    return changes


def _read_raw_amount(value: Any, where: str) -> tuple[int, int]:
    if not isinstance(value, dict):
        raise MalformedTransaction(f"{where} should be an object with tokenAmount and decimals")
    amount, decimals = value.get("tokenAmount"), value.get("decimals")
    if isinstance(amount, int) and not isinstance(amount, bool) and abs(amount) < _MAX_RAW:
        amount = str(amount)
    if not isinstance(amount, str) or not _RAW_AMOUNT.fullmatch(amount):
        raise MalformedTransaction(f"{where}.tokenAmount should be an integer string, got {_preview(amount)}")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= _MAX_DECIMALS:
        raise MalformedTransaction(f"{where}.decimals should be an integer from 0 to {_MAX_DECIMALS}")
    return int(amount), decimals


def _read_token_transfer(entry: dict, where: str) -> _TokenTransfer:
    mint = _optional_str(entry, "mint", where)
    if not mint:
        raise MalformedTransaction(f"{where}.mint should be an address")
    return _TokenTransfer(
        from_owner=_optional_str(entry, "fromUserAccount", where),
        to_owner=_optional_str(entry, "toUserAccount", where),
        from_token_account=_optional_str(entry, "fromTokenAccount", where),
        to_token_account=_optional_str(entry, "toTokenAccount", where),
        mint=mint,
        amount=_ui_amount(entry.get("tokenAmount"), f"{where}.tokenAmount"),
    )


def _ui_amount(value: Any, where: str) -> Decimal:
    """tokenTransfers' UI amount, a JSON float; str() gives its shortest repr, e.g. 0.01 not 0.0100000…"""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedTransaction(f"{where} should be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedTransaction(f"{where} should be a finite number")
    if isinstance(value, int) and abs(value) >= _MAX_RAW:
        raise MalformedTransaction(f"{where} is out of range: {_preview(value)}")
    if isinstance(value, str) and not re.fullmatch(r"-?[0-9]{1,40}(\.[0-9]{1,40})?", value):
        raise MalformedTransaction(f"{where} should be a number, got {_preview(value)}")
    amount = Decimal(str(value))
    if amount < 0 or abs(amount.adjusted()) > 40:
        raise MalformedTransaction(f"{where} is out of range: {_preview(value)}")
    return amount


def _read_native_transfer(entry: dict, where: str) -> _NativeTransfer:
    lamports = _optional_int(entry, "amount", where)
    if lamports is None or lamports < 0:
        raise MalformedTransaction(f"{where}.amount should be a non-negative integer")
    return _NativeTransfer(
        _optional_str(entry, "fromUserAccount", where), _optional_str(entry, "toUserAccount", where), lamports
    )


def _non_fungible_mints(raw_transfers: list[dict], events: dict) -> frozenset[str]:
    """Mints the payload marks as NFTs: tokenStandard NonFungible* or listed in `events.nft`."""
    mints = {
        t["mint"]
        for t in raw_transfers  # already read, so every one has a string mint
        if isinstance(t.get("tokenStandard"), str) and "nonfungible" in t["tokenStandard"].lower()
    }
    nft = events.get("nft")
    listed = nft.get("nfts") if isinstance(nft, dict) else None
    if isinstance(listed, list):
        mints |= {n["mint"] for n in listed if isinstance(n, dict) and isinstance(n.get("mint"), str)}
    return frozenset(mints)


def _dicts(container: dict, key: str, where: str) -> list[dict]:
    """A list of objects under `key`; missing or null is an empty list."""
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedTransaction(f"{where} should be a list, got {_type_name(value)}")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise MalformedTransaction(f"{where}[{i}] should be an object, got {_type_name(item)}")
    return value


def _optional_str(container: dict, key: str, where: str) -> str | None:
    value = container.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedTransaction(f"{_field(where, key)} should be a string, got {_type_name(value)}")
    return value


def _optional_int(container: dict, key: str, where: str) -> int | None:
    """An integer that fits in 64 bits (either sign), or None when the key is missing or null."""
    value = container.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise MalformedTransaction(f"{_field(where, key)} should be an integer, got {_type_name(value)}")
    if value is not None and not -_MAX_INT < value < _MAX_INT:
        raise MalformedTransaction(f"{_field(where, key)} is out of range: {_preview(value)}")
    return value


def _preview(value: Any) -> str:
    """A short one-line picture of a refused value; never raises, whatever the value holds."""
    if isinstance(value, str):
        return f"{value!r:.40}"
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool) and abs(value) < _MAX_RAW):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"an integer of {value.bit_length()} bits"
    return _type_name(value)


def _field(where: str, key: str) -> str:
    return where if where == key else f"{where}.{key}"


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )
