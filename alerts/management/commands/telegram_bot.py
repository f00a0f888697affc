"""`manage.py telegram_bot`: the AURA bot's process. Long-polls getUpdates (python-telegram-bot, pointed
at TELEGRAM_API_URL) and replies with `alerts.bot.answer`. `make run` starts it only when TELEGRAM_BOT_TOKEN
is set (aura/procfile.py); a supervisor that starts every Procfile line anyway gets a bot that says it
is off and waits, rather than one whose exit would stop the other processes."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from alerts import bot

logger = logging.getLogger(__name__)
RETRY_SECONDS = 5


async def _reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    reply = await sync_to_async(bot.answer, thread_sensitive=True)(message.chat_id, message.text)
    if reply:
        await message.reply_text(
            reply, parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        )


def build_application(token: str, api_url: str) -> Application:
    return (
        Application.builder()
        .token(token)
        .base_url(f"{api_url.rstrip('/')}/bot")
        .base_file_url(f"{api_url.rstrip('/')}/file/bot")
        .build()
    )


class Command(BaseCommand):
    help = "Run the AURA Telegram bot (getUpdates polling): links chats, answers /top /wallet /follow /mute."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--poll-timeout", type=int, default=10, help="getUpdates long-poll seconds")

    def handle(self, *args: Any, poll_timeout: int, **options: Any) -> None:
        token = settings.TELEGRAM_BOT_TOKEN
        if not token:
            self.stdout.write("TELEGRAM_BOT_TOKEN is not set: the Telegram bot is off (waiting for a stop signal).")
            return self._idle()
        self.stdout.write(f"AURA bot polling {settings.TELEGRAM_API_URL} for updates")
        while True:
            application = build_application(token, settings.TELEGRAM_API_URL)
            application.add_handler(MessageHandler(filters.COMMAND, _reply))
            try:
                application.run_polling(
                    timeout=poll_timeout, allowed_updates=["message"], drop_pending_updates=False, close_loop=False
                )
                return  # stopped by a signal
            except InvalidToken as error:
                # A wrong token will not fix itself: say so and wait, without taking the other processes down.
                logger.error("Telegram refused TELEGRAM_BOT_TOKEN (%s): the bot is off", error)
                return self._idle()
            except (NetworkError, TimedOut) as error:
                # Telegram (or the simulator, still starting) is unreachable: try again shortly.
                logger.warning(
                    "Telegram unreachable at %s: %s; retrying in %d s", settings.TELEGRAM_API_URL, error, RETRY_SECONDS
                )
                time.sleep(RETRY_SECONDS)

    def _idle(self) -> None:
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        stopped.wait()
