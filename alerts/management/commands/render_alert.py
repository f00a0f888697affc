"""`manage.py render_alert FILE --channel telegram|discord|webhook [--secret S] [--now T]`.

Prints, as JSON `{"method", "url_path", "headers", "body"}`, the exact HTTP request AURA sends to deliver
the alert for the event in FILE: the same functions the sender uses (`alerts.messages`). The body is a
JSON object for Telegram and Discord and the raw string for webhooks (the signature covers that string).
Needs no database and no serving secrets. Bad input ends with exit code 2 and one line on stderr.
"""

from __future__ import annotations

import json
import re
import sys
import time
from argparse import ArgumentTypeError, RawDescriptionHelpFormatter
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alerts.messages import (
    DISCORD,
    TELEGRAM,
    WEBHOOK,
    InvalidEvent,
    OutgoingRequest,
    discord_request,
    discord_webhook_path,
    parse_event,
    telegram_request,
    webhook_request,
    webhook_url_path,
)
from alerts.messages.discord import PLACEHOLDER_PATH as DISCORD_PLACEHOLDER_PATH
from alerts.messages.webhook import EXAMPLE_PATH as WEBHOOK_EXAMPLE_PATH

BAD_INPUT = 2
TOKEN_PLACEHOLDER = "{TELEGRAM_BOT_TOKEN}"
CHAT_ID_PLACEHOLDER = "{TELEGRAM_CHAT_ID}"
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
_CHAT_ID_NUMBER = re.compile(r"-?\d{1,20}")

EPILOG = f"""
Where the request goes. The command reads no secret from settings or the environment (its output
may land in logs), so the destination parts are placeholders unless given:
  telegram  url_path /bot{TOKEN_PLACEHOLDER}/sendMessage, chat_id "{CHAT_ID_PLACEHOLDER}";
            --token and --chat-id put real ones in (a numeric chat id is sent as a number).
  discord   url_path {DISCORD_PLACEHOLDER_PATH};
            --url https://discord.com/api/webhooks/<id>/<token> puts the real one in.
  webhook   url_path {WEBHOOK_EXAMPLE_PATH} (the example n8n workflow's); --url uses its path.
            --secret is required: the request is signed (X-Aura-Signature), and an unsigned one
            is not what AURA sends. --now sets X-Aura-Timestamp (default: the current time).
--secret and --now are accepted and unused for telegram and discord.
"""


class Command(BaseCommand):
    help = "Print, as JSON, the exact HTTP request AURA sends to deliver the alert for one event."
    requires_system_checks: list[str] = []  # a pure file-to-stdout tool: no checks, no database

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, epilog=EPILOG, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter  # keeps the epilog's layout
        if getattr(self, "_called_from_command_line", False):
            # argparse prints the whole usage before its error; the contract is one line on stderr.
            def one_line_error(message: str) -> NoReturn:
                sys.stderr.write(f"CommandError: {message}\n")
                sys.exit(BAD_INPUT)

            parser.error = one_line_error  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help='JSON file: one event, {"kind": "swap", ...} or {"kind": "signal", ...}')
        parser.add_argument("--channel", required=True, choices=(TELEGRAM, DISCORD, WEBHOOK))
        parser.add_argument("--secret", help="webhook signing secret (required for --channel webhook)")
        parser.add_argument("--now", type=_unix_seconds, help="unix seconds for X-Aura-Timestamp (default: now)")
        parser.add_argument(
            "--site-url", default=DEFAULT_SITE_URL, help=f"AURA's base URL for links ({DEFAULT_SITE_URL})"
        )
        parser.add_argument("--token", help=f"Telegram bot token (default: the placeholder {TOKEN_PLACEHOLDER})")
        parser.add_argument("--chat-id", help=f"Telegram chat id or @channel (default: {CHAT_ID_PLACEHOLDER})")
        parser.add_argument("--url", help="Discord webhook URL, or the generic webhook's URL")

    def handle(self, *args: Any, file: str, channel: str, **options: Any) -> None:
        event = _read_event(Path(file))
        try:
            request = _request(event, channel, options)
        except ValueError as error:  # a bad --url, --token or --site-url
            raise CommandError(str(error), returncode=BAD_INPUT)
        self.stdout.write(json.dumps(request.as_contract(), indent=2))


def _request(event: Any, channel: str, options: dict[str, Any]) -> OutgoingRequest:
    site_url = options["site_url"]
    if channel == TELEGRAM:
        return telegram_request(
            event,
            bot_token=options["token"] or TOKEN_PLACEHOLDER,
            chat_id=_chat_id(options["chat_id"]),
            site_url=site_url,
        )
    if channel == DISCORD:
        path = discord_webhook_path(options["url"]) if options["url"] else DISCORD_PLACEHOLDER_PATH
        return discord_request(event, webhook_path=path, site_url=site_url)
    if not options["secret"]:
        raise CommandError("--channel webhook needs --secret (the request is signed with it)", returncode=BAD_INPUT)
    return webhook_request(
        event,
        secret=options["secret"],
        timestamp=options["now"] if options["now"] is not None else int(time.time()),
        site_url=site_url,
        url_path=webhook_url_path(options["url"]) if options["url"] else WEBHOOK_EXAMPLE_PATH,
    )


def _chat_id(value: str | None) -> int | str:
    if value is None:
        return CHAT_ID_PLACEHOLDER
    return int(value) if _CHAT_ID_NUMBER.fullmatch(value) else value


def _unix_seconds(value: str) -> int:
    if not re.fullmatch(r"\d{1,11}", value):
        raise ArgumentTypeError(f"must be unix seconds (a non-negative integer), got {value!r}")
    return int(value)


def _read_event(path: Path) -> Any:
    try:
        data = json.loads(path.read_bytes(), parse_float=Decimal)
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}", returncode=BAD_INPUT)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CommandError(f"{path} is not valid JSON: {error}", returncode=BAD_INPUT)
    try:
        return parse_event(data)
    except InvalidEvent as error:
        raise CommandError(f"{path}: {error}", returncode=BAD_INPUT)
