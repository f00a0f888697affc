"""Token metadata (symbol, name, decimals, logo) from Birdeye's token overview."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from providers.birdeye import BirdeyeClient
from providers.http import ProviderError
from whales.live import push_token_names
from whales.models import Quarantined, Token
from whales.quarantine import DATA_ERRORS, error_line, quarantine
from whales.sanitise import clean_text

logger = logging.getLogger(__name__)


def name_unnamed_tokens(birdeye: BirdeyeClient | None = None, limit: int = 50) -> int:
    """Look up tokens that have no name and were never looked up: the lookup after their first trade
    failed (provider down, rate-limited) or was lost with its worker. Returns how many were found."""
    # Random order: a few mints the provider keeps failing on must not hold back the rest.
    unnamed = Token.objects.filter(metadata_updated_at=None, symbol="").order_by("?").values_list("mint", flat=True)
    mints = list(unnamed[:limit])
    return refresh_token_metadata(mints, birdeye) if mints else 0


def refresh_token_metadata(mints: Sequence[str], birdeye: BirdeyeClient | None = None) -> int:
    """Symbol, name, decimals and logo of `mints` from Birdeye's token overview. Returns how many were found.

    Symbols and names are stored as the chain has them (escaped on output, never here). Without
    BIRDEYE_API_KEY nothing is asked (every call would be a 401); the tokens wait for a key.
    """
    if birdeye is None and not settings.BIRDEYE_API_KEY:
        return 0
    found, named = 0, []
    client = birdeye or BirdeyeClient.from_settings()
    try:
        for mint in mints:
            try:
                overview = client.token_overview(mint)
            except ProviderError as error:
                logger.warning("metadata of %s: %s", mint, error)
                continue
            fields: dict[str, Any] = {"metadata_updated_at": timezone.now()}
            if overview is not None:
                logo = clean_text(overview.logo_uri or "")
                fields.update(
                    symbol=clean_text(overview.symbol or "")[:64],
                    name=clean_text(overview.name or "")[:200],
                    logo_url=logo[:500] if logo.startswith("https://") else "",
                )
                if overview.decimals is not None and 0 <= overview.decimals <= 255:
                    fields["decimals"] = overview.decimals
            try:
                with transaction.atomic():
                    Token.objects.filter(mint=mint).update(**fields)
            except DATA_ERRORS as error:
                # Looked up, and not to be asked again for ever: a person sees it in the quarantine.
                raw = dict(overview.raw) if overview is not None else None
                quarantine(Quarantined.Kind.TOKEN_METADATA, [(mint, raw, error_line(error))], "birdeye")
                Token.objects.filter(mint=mint).update(metadata_updated_at=fields["metadata_updated_at"])
                continue
            if overview is not None:
                found += 1
                if fields["symbol"]:
                    named.append(mint)
    finally:
        if birdeye is None:
            client.close()
    if named:
        transaction.on_commit(lambda: push_token_names(named), robust=True)
    return found
