"""What each kind of alert says: swap, signal, digest and the channel test, as a channel-neutral `Message`.

Attacker-controlled strings are cleaned when the event is read and clipped here to lengths that keep a
message readable (a 10,000-character token name would otherwise push everything else out); each
channel then escapes them. Pure: no Django, no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alerts.messages.document import Code, Field, Inline, Line, Message, Text, bold, link
from alerts.messages.events import (
    Alert,
    ChannelProblem,
    ChannelTest,
    Digest,
    SignalEvent,
    SwapEvent,
    Token,
    Wallet,
)
from alerts.messages.text import (
    Links,
    clip,
    format_amount,
    format_duration,
    format_price,
    format_time,
    format_usd,
    plural,
    short_address,
)

SYMBOL_LENGTH = 24
NAME_LENGTH = 64
LABEL_LENGTH = 48
REASON_LENGTH = 300
WALLETS_SHOWN = 10
REASONS_SHOWN = 10
DIGEST_ROWS_SHOWN = 20

GREEN = 0x2ECC71
RED = 0xE74C3C
GOLD = 0xF1C40F
BLUE = 0x3498DB
PURPLE = 0x9B59B6
GREY = 0x95A5A6

SIDE_MARKS = {"buy": "🟢", "sell": "🔴"}
SIDE_VERBS = {"buy": "bought", "sell": "sold"}
SIDE_COLOURS = {"buy": GREEN, "sell": RED}
SIGNAL_KINDS = {
    # kind: (mark, label, colour)
    "whale_accumulation": ("🐋", "Whale accumulation", GREEN),
    "whale_distribution": ("🐋", "Whale distribution", RED),
    "big_trade": ("💰", "Big trade", GOLD),
    "momentum": ("🚀", "Momentum", BLUE),
    "new_listing": ("🆕", "New listing", PURPLE),
}


def message_for(alert: Alert, links: Links) -> Message:
    """The channel-neutral message for any alert."""
    if isinstance(alert, SwapEvent):
        return swap_message(alert, links)
    if isinstance(alert, SignalEvent):
        return signal_message(alert, links)
    if isinstance(alert, Digest):
        return digest_message(alert, links)
    if isinstance(alert, ChannelTest):
        return channel_test_message(alert)
    if isinstance(alert, ChannelProblem):
        return channel_problem_message(alert)
    raise TypeError(f"not an alert: {alert!r}")


def symbol_of(token: Token) -> str:
    return clip(token.display_symbol, SYMBOL_LENGTH)


def name_of(wallet: Wallet) -> str:
    return clip(wallet.display_name, LABEL_LENGTH)


def signal_label(kind: str) -> str:
    """`whale_accumulation` → "Whale accumulation"; unknown kinds read the same way."""
    known = SIGNAL_KINDS.get(kind)
    return known[1] if known else kind.replace("_", " ").capitalize()


def swap_summary(swap: SwapEvent, links: Links) -> Line:
    """`alice bought 1,000 BONK for $12.50`"""
    symbol = symbol_of(swap.token)
    value: tuple[Inline, ...] = (
        (Text(" for "), bold(format_usd(swap.usd))) if swap.usd is not None else (Text(" (no price yet)"),)
    )
    return (
        link(links.wallet(swap.wallet.address), name_of(swap.wallet)),
        Text(f" {SIDE_VERBS[swap.side]} "),
        bold(f"{format_amount(swap.token_amount)} {symbol}"),
        *value,
    )


def swap_message(swap: SwapEvent, links: Links) -> Message:
    symbol = symbol_of(swap.token)
    value: Line = (Text(format_usd(swap.usd)),)
    if swap.price_usd is not None:
        value += (Text(f" · {format_price(swap.price_usd)} each"),)
    solscan: list[Inline] = [
        Text("Solscan: "),
        link(Links.solscan_account(swap.wallet.address), "wallet"),
        Text(" · "),
        link(Links.solscan_token(swap.token.mint), "token"),
    ]
    if swap.signature:
        solscan += [Text(" · "), link(Links.solscan_tx(swap.signature), "transaction")]
    return Message(
        title=(Text(f"{SIDE_MARKS[swap.side]} {swap.side.upper()} {symbol}"),),
        summary=swap_summary(swap, links),
        fields=(
            Field("Token", token_value(swap.token, links)),
            Field("Wallet", wallet_value(swap.wallet, links)),
            Field("Amount", (Text(f"{format_amount(swap.token_amount)} {symbol}"),)),
            Field("Value", value),
            Field("Time", (Text(format_time(swap.block_time)),), inline=False),
        ),
        lines=(tuple(solscan),),
        url=links.token(swap.token.mint),
        footer="AURA · swap alert",
        colour=SIDE_COLOURS[swap.side],
        timestamp=swap.block_time,
    )


def token_value(token: Token, links: Links) -> Line:
    """`BONK · Bonk` with the symbol linking to AURA's token page."""
    value: Line = (link(links.token(token.mint), symbol_of(token)),)
    if token.name and token.name != token.symbol:
        value += (Text(f" · {clip(token.name, NAME_LENGTH)}"),)
    return value


def wallet_value(wallet: Wallet, links: Links) -> Line:
    value: Line = (link(links.wallet(wallet.address), name_of(wallet)),)
    if wallet.label:
        value += (Text(" "), Code(short_address(wallet.address)))
    return value


def signal_summary(signal: SignalEvent, links: Links) -> Line:
    """`3 tracked wallets are buying BONK · score 82/100`"""
    token = link(links.token(signal.token.mint), symbol_of(signal.token))
    count = len(signal.wallets)
    wallets = bold(plural(count, "tracked wallet"))
    verb = "is" if count == 1 else "are"
    kind = signal.signal_kind
    if kind == "whale_accumulation":
        sentence: Line = (wallets, Text(f" {verb} buying "), token)
    elif kind == "whale_distribution":
        sentence = (wallets, Text(f" {verb} selling "), token)
    elif kind == "big_trade" and count == 1:
        sentence = (
            link(links.wallet(signal.wallets[0].address), name_of(signal.wallets[0])),
            Text(" made a big trade in "),
            token,
        )
    elif kind == "new_listing":
        sentence = (token, Text(" is newly listed and passed the safety checks"))
    else:
        sentence = (Text(f"{signal_label(kind)} on "), token)
    return (*sentence, Text(" · score "), bold(f"{signal.score}/100"))


def signal_message(signal: SignalEvent, links: Links) -> Message:
    mark, _, colour = SIGNAL_KINDS.get(signal.signal_kind, ("📈", "", GREY))
    fields = [Field("Token", token_value(signal.token, links)), Field("Score", (Text(f"{signal.score}/100"),))]
    if signal.wallets:
        fields.append(Field(f"Wallets ({len(signal.wallets)})", wallet_list(signal.wallets, links), inline=False))
    if signal.fired_at is not None:
        fields.append(Field("Fired", (Text(format_time(signal.fired_at)),), inline=False))
    lines: list[Line] = []
    if signal.reasons:
        lines.append((bold("Why"),))
        lines += [(Text("• " + clip(reason, REASON_LENGTH)),) for reason in signal.reasons[:REASONS_SHOWN]]
        hidden = len(signal.reasons) - REASONS_SHOWN
        if hidden > 0:
            lines.append((Text(f"… and {plural(hidden, 'more reason')}"),))
    lines.append((Text("Solscan: "), link(Links.solscan_token(signal.token.mint), "token")))
    return Message(
        title=(Text(f"{mark} {signal_label(signal.signal_kind)}: {symbol_of(signal.token)}"),),
        summary=signal_summary(signal, links),
        fields=tuple(fields),
        lines=tuple(lines),
        url=links.token(signal.token.mint),
        footer="AURA · signal",
        colour=colour,
        timestamp=signal.fired_at,
    )


def wallet_list(wallets: tuple[Wallet, ...], links: Links) -> Line:
    shown: list[Inline] = []
    for index, wallet in enumerate(wallets[:WALLETS_SHOWN]):
        if index:
            shown.append(Text(", "))
        shown.append(link(links.wallet(wallet.address), name_of(wallet)))
    hidden = len(wallets) - WALLETS_SHOWN
    if hidden > 0:
        shown.append(Text(f" and {hidden:,} more"))
    return tuple(shown)


def digest_summary(digest: Digest, links: Links) -> Line:
    """`alice made 7 buys of 4 tokens in 2 min`, `3 wallets made 5 buys and 2 sells of 6 tokens in 1 h`,
    with `, plus 2 signals` when signals came in the same window."""
    swaps, signals = digest.swaps, digest.signals
    span = digest.window_end - digest.window_start
    when = f" in {format_duration(span)}" if span > 0 else " at once"
    if not swaps:
        tokens = {signal.token.mint for signal in signals}
        return (bold(plural(len(signals), "signal")), Text(f" on {plural(len(tokens), 'token')}{when}"))
    wallets = {swap.wallet.address: swap.wallet for swap in swaps}
    who: Inline
    if len(wallets) == 1:
        only = next(iter(wallets.values()))
        who = link(links.wallet(only.address), name_of(only))
    else:
        who = Text(plural(len(wallets), "wallet"))
    buys = sum(1 for swap in swaps if swap.side == "buy")
    sells = len(swaps) - buys
    trades = " and ".join(part for part in (_count(buys, "buy"), _count(sells, "sell")) if part)
    tokens = {swap.token.mint for swap in swaps}
    summary: Line = (who, Text(" made "), bold(f"{trades} of {plural(len(tokens), 'token')}"), Text(when))
    if signals:
        summary += (Text(f", plus {plural(len(signals), 'signal')}"),)
    return summary


def _count(count: int, word: str) -> str:
    return plural(count, word) if count else ""


def digest_message(digest: Digest, links: Links) -> Message:
    rows = [digest_row(event, links) for event in digest.events[:DIGEST_ROWS_SHOWN]]
    hidden = len(digest.events) - DIGEST_ROWS_SHOWN
    if hidden > 0:
        rows.append((link(f"{links.site_url}/feed/", f"… and {hidden:,} more in AURA"),))
    fields = [
        Field("Window", (Text(f"{format_time(digest.window_start)} → {_clock(digest.window_end)}"),), inline=False)
    ]
    if digest.swaps:
        fields.append(Field("Swaps", (Text(f"{len(digest.swaps):,}"),)))
    if digest.signals:
        fields.append(Field("Signals", (Text(f"{len(digest.signals):,}"),)))
    return Message(
        title=(Text(f"🧾 AURA digest: {plural(len(digest.events), 'alert')}"),),
        summary=digest_summary(digest, links),
        fields=tuple(fields),
        lines=tuple(rows),
        url=f"{links.site_url}/feed/",
        footer="AURA · digest",
        colour=BLUE,
        timestamp=digest.window_end,
    )


def digest_row(event: SwapEvent | SignalEvent, links: Links) -> Line:
    """One line of a digest: `16:00:05 🟢 alice bought 1,000 BONK ($12.50)`."""
    if isinstance(event, SwapEvent):
        return (
            Text(f"{_clock(event.block_time)} {SIDE_MARKS[event.side]} "),
            link(links.wallet(event.wallet.address), name_of(event.wallet)),
            Text(f" {SIDE_VERBS[event.side]} {format_amount(event.token_amount)} "),
            link(links.token(event.token.mint), symbol_of(event.token)),
            Text(f" ({format_usd(event.usd)})"),
        )
    clock = f"{_clock(event.fired_at)} " if event.fired_at is not None else ""
    mark = SIGNAL_KINDS.get(event.signal_kind, ("📈",))[0]
    return (
        Text(f"{clock}{mark} {signal_label(event.signal_kind)} on "),
        link(links.token(event.token.mint), symbol_of(event.token)),
        Text(f" (score {event.score})"),
    )


def _clock(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%H:%M:%S")


def channel_test_message(test: ChannelTest) -> Message:
    channel = f"“{clip(test.channel_label, LABEL_LENGTH)}”" if test.channel_label else "This channel"
    return Message(
        title=(Text("✅ AURA test message"),),
        summary=(Text(f"{channel} works: the alerts you route here will arrive like this."),),
        fields=(Field("Sent", (Text(format_time(test.sent_at)),), inline=False),),
        footer="AURA · test",
        colour=BLUE,
        timestamp=test.sent_at,
    )


def channel_problem_message(problem: ChannelProblem) -> Message:
    channel = f"“{clip(problem.channel_label, LABEL_LENGTH)}”"
    return Message(
        title=(Text("⚠️ An AURA alert channel is failing"),),
        summary=(Text(f"{channel} stopped working; its alerts are kept in your delivery log until it is fixed."),),
        fields=(Field("Error", (Text(clip(problem.error, REASON_LENGTH)),), inline=False),),
        footer="AURA · channel problem",
        colour=RED,
        timestamp=problem.sent_at,
    )
