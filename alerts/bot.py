"""What the AURA Telegram bot answers. `answer(chat_id, text)` takes a message as the bot received it and
returns the reply as Telegram HTML (every piece of data escaped), or None to stay silent. The
`telegram_bot` command feeds it from getUpdates; this module holds no Telegram client.

    /start <code>      link this chat to the AURA channel that made the code (the deep link sends it)
    /top               the leaderboard's top wallets (7 days)
    /wallet <address>  one wallet's figures
    /follow <address>  follow a tracked wallet
    /mute <duration>   hold alerts for 30m, 2h, 1d…; "/mute off" ends it
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from alerts import actions
from alerts.models import AlertSettings

TOP_SHOWN = 5
MUTE_LIMIT = timedelta(days=30)
_DURATION = re.compile(r"(\d{1,5})\s*([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
HELP = (
    "AURA alerts bot.\n/top: the best wallets this week\n/wallet &lt;address&gt;: a wallet's figures\n"
    "/follow &lt;address&gt;: follow a wallet\n/mute &lt;30m|2h|1d|off&gt;: hold alerts"
)


def answer(chat_id: int, text: str) -> str | None:
    words = (text or "").strip().split()
    if not words or not words[0].startswith("/"):
        return None
    command = words[0].split("@", 1)[0].lower()  # "/start@AuraBot" in groups
    argument = words[1] if len(words) > 1 else ""
    if command == "/start":
        return _start(chat_id, argument)
    channels = actions.telegram_channels_of_chat(chat_id)
    if not channels:
        return (
            "This chat is not linked to AURA. Add a Telegram channel on AURA's alert channels page and open its link."
        )
    user = channels[0].user
    if command == "/top":
        return _top()
    if command == "/wallet":
        return _wallet(argument)
    if command == "/follow":
        return _follow(user, argument)
    if command == "/mute":
        return _mute(user, argument)
    return HELP


def _start(chat_id: int, code: str) -> str:
    if not code:
        linked = actions.telegram_channels_of_chat(chat_id)
        if linked:
            return f"This chat is linked to AURA as <b>{html.escape(linked[0].user.get_username())}</b>.\n{HELP}"
        return "Welcome to AURA. Open the link on your AURA alert channels page to link this chat."
    channel = actions.link_telegram(code, chat_id)
    if channel is None:
        return "That link is unknown, used or expired. Make a new one on your AURA alert channels page."
    return (
        f"Linked: AURA alerts for <b>{html.escape(channel.user.get_username())}</b> "
        f"(“{html.escape(channel.display_name)}”) arrive in this chat.\n{HELP}"
    )


def _usd(value: Decimal | None) -> str:
    return "—" if value is None else f"${value:,.0f}"


def _top() -> str:
    from whales.models import WalletStats

    rows = list(
        WalletStats.objects.filter(window="7d", wallet__is_active=True)
        .select_related("wallet")
        .order_by("-realized_pnl")[:TOP_SHOWN]
    )
    if not rows:
        return "No wallet has figures yet."
    lines = ["<b>Top wallets, 7 days (realized P&amp;L)</b>"]
    for rank, row in enumerate(rows, 1):
        name = html.escape(row.wallet.label or row.wallet.address[:8])
        link = html.escape(f"{settings.SITE_URL}/wallets/{row.wallet.address}/", quote=True)
        win = "—" if row.win_rate is None else f"{row.win_rate * 100:.0f}%"
        lines.append(f'{rank}. <a href="{link}">{name}</a> {_usd(row.realized_pnl)} · win rate {win}')
    return "\n".join(lines)


def _tracked(address: str):
    from whales.models import TrackedWallet

    return TrackedWallet.objects.filter(address=address.strip()).first() if address else None


def _wallet(address: str) -> str:
    from whales.models import WalletStats

    wallet = _tracked(address)
    if wallet is None:
        return "Not a tracked wallet. Usage: /wallet &lt;address&gt;"
    stats = {s.window: s for s in WalletStats.objects.filter(wallet=wallet)}
    lines = [f"<b>{html.escape(wallet.label or wallet.address[:8])}</b> <code>{html.escape(wallet.address)}</code>"]
    for window in ("24h", "7d", "30d"):
        row = stats.get(window)
        if row is not None:
            lines.append(f"{window}: realized {_usd(row.realized_pnl)}, {row.swap_count} swaps")
    lines.append(html.escape(f"{settings.SITE_URL}/wallets/{wallet.address}/"))
    return "\n".join(lines)


def _follow(user, address: str) -> str:
    from portfolios.actions import set_following

    wallet = _tracked(address)
    if wallet is None:
        return "Not a tracked wallet. Usage: /follow &lt;address&gt;"
    set_following(user, wallet, True)
    return f"Following <b>{html.escape(wallet.label or wallet.address[:8])}</b>."


def _mute(user, argument: str) -> str:
    if argument.lower() in ("off", "0", "stop"):
        AlertSettings.objects.filter(user=user).update(muted_until=None)
        return "Alerts are on again."
    match = _DURATION.fullmatch(argument.lower())
    if not match:
        return "Usage: /mute 30m, /mute 2h, /mute 1d, or /mute off"
    duration = min(timedelta(**{_UNITS[match[2]]: int(match[1])}), MUTE_LIMIT)
    until = timezone.now() + duration
    actions.mute(user, until)
    return f"Muted until {until:%Y-%m-%d %H:%M} UTC: alerts wait and arrive as one digest then."
