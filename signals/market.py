"""Momentum and new listings from the market poll: the beat's half of the signal kinds.

Birdeye's trending list and token overviews feed momentum (DexScreener's pairs when Birdeye is not
configured or fails); Birdeye's new listings and DexScreener's token profiles are the new tokens,
kept only when Birdeye's token security and their liquidity pass the safety checks. DexScreener's
boosts are paid promotion: listed in the reasons, worth nothing. Every input carries its age.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from providers.birdeye import BirdeyeClient, TokenOverview
from providers.dexscreener import PRICE_QUOTE_MINTS, DexScreenerClient, Pair
from providers.http import ProviderError
from signals import scoring
from signals.models import MarketSnapshot, Signal, TokenSafety, unix
from signals.parameters import parameters
from signals.recording import active_signal, lock_tokens, record_events
from whales.models import Swap, Token
from whales.sanitise import clean_text

logger = logging.getLogger(__name__)

SNAPSHOTS_KEPT = timedelta(days=2)
HOLDERS_COMPARED_WITH = timedelta(hours=24)
HOLDERS_TOLERANCE = timedelta(hours=2)
SAFETY_RECHECK_AFTER = timedelta(hours=1)
FLOW_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class MarketFigures:
    """What one source says of a token now; None = not given. `age_seconds`: how old the figures are."""

    source: str
    age_seconds: int
    price_usd: Decimal | None = None
    price_change_1h_percent: Decimal | None = None
    price_change_24h_percent: Decimal | None = None
    volume_1h_usd: Decimal | None = None
    volume_24h_usd: Decimal | None = None
    liquidity_usd: Decimal | None = None
    holders: int | None = None


def poll_market(now: datetime | None = None) -> int:
    """One poll: momentum of the trending tokens, then the new listings. Returns the signals stored
    or changed. A provider failing costs its part of this poll only."""
    now = now or timezone.now()
    birdeye = BirdeyeClient.from_settings() if settings.BIRDEYE_API_KEY else None
    dexscreener = DexScreenerClient.from_settings()
    try:
        promotions = boosts(dexscreener)
        changed = poll_momentum(birdeye, dexscreener, promotions, now)
        changed += poll_new_listings(birdeye, dexscreener, promotions, now)
        MarketSnapshot.objects.filter(at__lt=now - SNAPSHOTS_KEPT).delete()
        return len(changed)
    finally:
        dexscreener.close()
        if birdeye is not None:
            birdeye.close()


def boosts(dexscreener: DexScreenerClient) -> dict[str, scoring.Promotion]:
    try:
        return {
            boost.token_address: scoring.Promotion(boost.amount, boost.total_amount, 0)
            for boost in dexscreener.latest_token_boosts()
        }
    except ProviderError as error:
        logger.warning("signals: DexScreener boosts unavailable: %s", error)
        return {}


# --- momentum ---------------------------------------------------------------------------------------


def poll_momentum(
    birdeye: BirdeyeClient | None,
    dexscreener: DexScreenerClient,
    promotions: dict[str, scoring.Promotion],
    now: datetime,
) -> list[int]:
    figures: dict[str, tuple[MarketFigures, str | None, str | None]] = {}
    if birdeye is not None:
        try:
            trending = birdeye.token_trending(limit=min(settings.SIGNAL_TRENDING_LIMIT, 20))
            for item in trending.tokens:
                overview = birdeye.token_overview(item.address)
                if overview is not None:
                    figures[item.address] = (overview_figures(overview, unix(now)), item.symbol, item.name)
        except ProviderError as error:
            logger.warning("signals: Birdeye trending unavailable, DexScreener instead: %s", error)
            figures = {}
    if not figures:
        figures = _dexscreener_figures(dexscreener, _fallback_candidates(now, promotions))
    changed: list[int] = []
    for mint, (market, symbol, name) in figures.items():
        changed += judge_momentum(mint, symbol, name, market, promotions.get(mint), now)
    return changed


def overview_figures(overview: TokenOverview, now: int) -> MarketFigures:
    raw = overview.raw

    def number(name: str) -> Decimal | None:
        value = raw.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None
        try:
            result = Decimal(str(value))
        except ArithmeticError:
            return None
        return result if result.is_finite() else None

    last_trade = overview.last_trade_unix_time
    return MarketFigures(
        source="birdeye",
        age_seconds=max(0, now - last_trade) if last_trade else 0,
        price_usd=overview.price,
        price_change_1h_percent=number("priceChange1hPercent"),
        price_change_24h_percent=overview.price_change_24h_percent,
        volume_1h_usd=number("v1hUSD"),
        volume_24h_usd=overview.volume_24h_usd,
        liquidity_usd=overview.liquidity,
        holders=overview.holder,
    )


def _fallback_candidates(now: datetime, promotions: dict[str, scoring.Promotion]) -> list[str]:
    """Without Birdeye's trending list: the tokens tracked wallets traded in the last hour, and the boosted ones."""
    traded = Swap.objects.filter(block_time__gte=now - FLOW_WINDOW).values_list("token__mint", flat=True).distinct()
    return list(dict.fromkeys([*traded[:60], *list(promotions)[:30]]))


def _dexscreener_figures(dexscreener: DexScreenerClient, mints: list[str]) -> dict:
    if not mints:
        return {}
    try:
        pairs = dexscreener.token_pairs(mints)
    except ProviderError as error:
        logger.warning("signals: DexScreener pairs unavailable: %s", error)
        return {}
    best: dict[str, Pair] = {}
    for pair in pairs:
        base = (pair.get("baseToken") or {}).get("address")
        quote = (pair.get("quoteToken") or {}).get("address")
        if base not in mints or quote not in PRICE_QUOTE_MINTS:
            continue
        if _liquidity(pair) > _liquidity(best.get(base)):
            best[base] = pair
    return {mint: (pair_figures(pair), None, None) for mint, pair in best.items()}


def _liquidity(pair: Pair | None) -> Decimal:
    value = _pair_number(((pair or {}).get("liquidity") or {}).get("usd"))
    return value if value is not None else Decimal(-1)


def _pair_number(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def pair_figures(pair: Pair) -> MarketFigures:
    change, volume = pair.get("priceChange") or {}, pair.get("volume") or {}
    return MarketFigures(
        source="dexscreener",
        age_seconds=0,
        price_usd=_pair_number(pair.get("priceUsd")),
        price_change_1h_percent=_pair_number(change.get("h1")),
        price_change_24h_percent=_pair_number(change.get("h24")),
        volume_1h_usd=_pair_number(volume.get("h1")),
        volume_24h_usd=_pair_number(volume.get("h24")),
        liquidity_usd=_pair_number((pair.get("liquidity") or {}).get("usd")),
    )


def judge_momentum(
    mint: str,
    symbol: str | None,
    name: str | None,
    market: MarketFigures,
    promotion: scoring.Promotion | None,
    now: datetime,
) -> list[int]:
    """Store the token's market figures and, when its momentum is published, its signal."""
    params = parameters()
    with transaction.atomic():
        token = market_token(mint, symbol, name)
        lock_tokens([token.id])
        holders_then = (
            MarketSnapshot.objects.filter(
                token=token,
                holders__isnull=False,
                at__lte=now - HOLDERS_COMPARED_WITH + HOLDERS_TOLERANCE,
                at__gte=now - HOLDERS_COMPARED_WITH - HOLDERS_TOLERANCE,
            )
            .order_by("-at")
            .values_list("holders", flat=True)
            .first()
        )
        MarketSnapshot.objects.create(
            token=token,
            at=now,
            source=market.source,
            price_usd=market.price_usd,
            price_change_1h_percent=_fit(market.price_change_1h_percent),
            price_change_24h_percent=_fit(market.price_change_24h_percent),
            volume_1h_usd=_money(market.volume_1h_usd),
            volume_24h_usd=_money(market.volume_24h_usd),
            liquidity_usd=_money(market.liquidity_usd),
            holders=market.holders,
        )
        growth = None
        if holders_then and market.holders is not None:
            growth = Decimal(market.holders - holders_then) * 100 / Decimal(holders_then)
        age = market.age_seconds

        def observed(value: Decimal | None, seconds: int = age) -> scoring.Observed | None:
            return None if value is None else scoring.Observed(value, seconds)

        inputs = scoring.MarketInputs(
            token=mint,
            at=unix(now),
            price_change_1h_percent=observed(market.price_change_1h_percent),
            price_change_24h_percent=observed(market.price_change_24h_percent),
            volume_1h_usd=observed(market.volume_1h_usd),
            volume_24h_usd=observed(market.volume_24h_usd),
            liquidity_usd=observed(market.liquidity_usd),
            holder_growth_24h_percent=observed(growth, 0),
            tracked_net_flow_usd=scoring.Observed(tracked_net_flow(token, now), 0),
        )
        assessment = scoring.score_momentum(inputs, params, promotion)
        return _settle(token, assessment, params, now)


def tracked_net_flow(token: Token, now: datetime) -> Decimal:
    """USD tracked wallets bought of the token over the last hour, less what they sold."""
    totals = Swap.objects.filter(token=token, block_time__gte=now - FLOW_WINDOW, usd_value__isnull=False).aggregate(
        bought=Sum("usd_value", filter=Q(side="buy")), sold=Sum("usd_value", filter=Q(side="sell"))
    )
    return (totals["bought"] or Decimal(0)) - (totals["sold"] or Decimal(0))


def _settle(token: Token, assessment: scoring.Assessment, params: scoring.Parameters, now: datetime) -> list[int]:
    candidate = assessment.signal()
    if candidate is None:
        return []
    active: Signal | None = active_signal(token, assessment.kind, now)
    event = scoring.settle(active.as_engine() if active else None, candidate, params)
    if event is None:
        return []
    return record_events([event], {token.mint: token}, params)


# --- new listings -----------------------------------------------------------------------------------


def poll_new_listings(
    birdeye: BirdeyeClient | None,
    dexscreener: DexScreenerClient,
    promotions: dict[str, scoring.Promotion],
    now: datetime,
) -> list[int]:
    listings: dict[str, tuple[int, str, Decimal | None, str | None, str | None]] = {}
    if birdeye is not None:
        try:
            for item in birdeye.new_listings(limit=min(settings.SIGNAL_NEW_LISTING_LIMIT, 20)):
                listed_at = item.listed_at if item.listed_at is not None else unix(now)
                listings[item.address] = (listed_at, "birdeye_new_listing", item.liquidity, item.symbol, item.name)
        except ProviderError as error:
            logger.warning("signals: Birdeye new listings unavailable: %s", error)
    try:
        for profile in dexscreener.latest_token_profiles()[: settings.SIGNAL_NEW_LISTING_LIMIT]:
            listings.setdefault(profile.token_address, (unix(now), "dexscreener_profile", None, None, None))
    except ProviderError as error:
        logger.warning("signals: DexScreener token profiles unavailable: %s", error)
    recent = set(
        TokenSafety.objects.filter(
            token__mint__in=list(listings), checked_at__gte=now - SAFETY_RECHECK_AFTER
        ).values_list("token__mint", flat=True)
    )
    changed: list[int] = []
    for mint, (listed_at, source, liquidity, symbol, name) in listings.items():
        if mint in recent:
            continue
        report = None
        if birdeye is not None:
            try:
                report = birdeye.token_security(mint)
                if liquidity is None:
                    overview = birdeye.token_overview(mint)
                    liquidity = overview.liquidity if overview else None
            except ProviderError as error:
                logger.warning("signals: Birdeye token security of %s unavailable: %s", mint, error)
        security = scoring.TokenSecurity(
            mint_authority=None if report is None else scoring.Observed(report.mint_authority, 0),
            freeze_authority=None if report is None else scoring.Observed(report.freeze_authority, 0),
            top10_holder_share=None
            if report is None or report.top10_holder_share is None
            else scoring.Observed(report.top10_holder_share, 0),
            liquidity_usd=None if liquidity is None else scoring.Observed(liquidity, 0),
        )
        changed += judge_new_listing(mint, symbol, name, listed_at, source, security, promotions.get(mint), now)
    return changed


def judge_new_listing(
    mint: str,
    symbol: str | None,
    name: str | None,
    listed_at: int,
    source: str,
    security: scoring.TokenSecurity,
    promotion: scoring.Promotion | None,
    now: datetime,
) -> list[int]:
    """Store the token's safety checks and, when every one passes, its new-listing signal."""
    params = parameters()
    assessment = scoring.assess_new_listing(
        mint, min(listed_at, unix(now)), unix(now), security, params, source=source, promotion=promotion
    )
    with transaction.atomic():
        token = market_token(mint, symbol, name)
        lock_tokens([token.id])
        TokenSafety.objects.update_or_create(
            token=token,
            defaults={
                "passed": assessment.publish,
                "checks": [reason for reason in assessment.reasons if reason.get("reason") == "safety"],
                "mint_authority": clean_text(_value(security.mint_authority) or "")[:44],
                "freeze_authority": clean_text(_value(security.freeze_authority) or "")[:44],
                "top10_holder_share": _fit(_value(security.top10_holder_share)),
                "liquidity_usd": _money(_value(security.liquidity_usd)),
                "checked_at": now,
            },
        )
        return _settle(token, assessment, params, now)


# --- helpers ----------------------------------------------------------------------------------------


def market_token(mint: str, symbol: str | None, name: str | None) -> Token:
    """The token row of `mint`, made from what the market source says of it when AURA has none.
    Symbols and names come from the chain: cleaned of what PostgreSQL cannot store, escaped on output."""
    token = Token.objects.filter(mint=mint).first()
    if token is not None:
        return token
    token, _ = Token.objects.get_or_create(
        mint=clean_text(mint)[:44],
        defaults={"symbol": clean_text(symbol or "")[:64], "name": clean_text(name or "")[:200]},
    )
    return token


def _value(observed: scoring.Observed | None):
    return None if observed is None else observed.value


def _fit(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    value = round(value, 12)
    return value if abs(value) < Decimal(10) ** 17 else None


def _money(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    value = round(value, 8)
    return value if abs(value) < Decimal(10) ** 21 else None
