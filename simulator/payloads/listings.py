"""New listings and what is said about them, in the vendors' shapes: Birdeye's new listings and token
security, DexScreener's latest token profiles and boosts.

Pure and deterministic: every figure follows from the token's mint and the moment asked, so the same
market answers the same way every time. Safety is staged to match the price paths: a token that will
be rugged keeps a mint authority or a concentrated supply (the checks catch it), most others pass.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Protocol

from simulator.base58 import derived_address
from simulator.market import MINUTE, Market, Token

Json = dict[str, Any]
NEW_LISTING_MAX = 20
PROFILES_SHOWN = 12
BOOSTED_PER_HOUR = 4
BOOST_AMOUNTS = (10, 30, 50, 100, 500)
# The recorded profile and boost samples are from other chains: the live lists mix chains, and a
# client must keep Solana's only.
_OTHER_CHAIN_PROFILE: Json = {
    "url": "https://dexscreener.com/bsc/0x212e05f7df8fafed3ce2cce6093f16fb0a224444",
    "chainId": "bsc",
    "tokenAddress": "0x212E05F7dF8faFed3cE2Cce6093f16fB0a224444",
    "icon": "https://cdn.dexscreener.com/cms/images/ed2462115f8a0d16509289a6f9d68baff00a7ca33e8eb460dabe929bd4788c8d"
    "?width=64&height=64&fit=crop&quality=95&format=auto",
    "description": "AI Robotics develops specialised, production-grade bots for modern financial markets.",
    "links": [{"label": "Website", "url": "https://roboticsbnb.xyz/"}],
    "cto": False,
}


class Prices(Protocol):
    """What the listings read from the market data of a moment (simulator.payloads.MarketData)."""

    market: Market
    now: int
    minute: int

    def asset(self, mint: str) -> Token | None: ...

    def liquidity(self, token: Token) -> float: ...


def unit(*parts: str) -> float:
    """A stable pseudo-random number in [0, 1) named by `parts`."""
    digest = hashlib.blake2b("\x1f".join(("listings", *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def listed_at(market: Market, token: Token) -> int:
    """When liquidity was added: a pump.fun token's graduation, any other token's launch (unix s)."""
    minute = token.graduation_minute if token.graduation_minute is not None else token.launch_minute
    return market.start_time + minute * MINUTE


def newest_listings(data: Prices) -> list[Token]:
    """The market's tokens listed by now, newest first (never SOL or the stablecoins)."""
    market = data.market
    listed = [t for t in market.tokens if data.asset(t.mint) is not None and listed_at(market, t) <= data.now]
    return sorted(listed, key=lambda t: (listed_at(market, t), t.mint), reverse=True)


def birdeye_new_listing(data: Prices, limit: int) -> Json:
    """`data` of /defi/v2/tokens/new_listing."""
    items = []
    for token in newest_listings(data)[:limit]:
        items.append(
            {
                "address": token.mint,
                "symbol": token.symbol,
                "name": token.name,
                "decimals": token.decimals,
                "source": "pump_dot_fun" if token.kind == "pump" else "raydium",
                "liquidityAddedAt": _human_time(listed_at(data.market, token)),
                "logoURI": None if unit(token.mint, "logo") < 0.3 else _logo(token),
                "liquidity": data.liquidity(token),
            }
        )
    return {"items": items}


def security_of(token: Token) -> tuple[str | None, str | None, float]:
    """(mint authority, freeze authority, top-10 holders' share of the supply) of a token.

    A token that will be rugged keeps its mint authority or has its supply in few hands; of the
    others about one in five fails a check (a freeze authority, or a top-10 share over 30 %).
    """
    roll = unit(token.mint, "safety")
    creator = derived_address("token creator", token.mint)
    if token.kind in ("quote", "bluechip"):
        return None, None, round(0.05 + 0.15 * roll, 4)
    if token.rug_minute is not None:
        if roll < 0.6:
            return creator, None, round(0.2 + 0.3 * unit(token.mint, "share"), 4)
        return None, None, round(0.45 + 0.4 * unit(token.mint, "share"), 4)
    if roll < 0.08:
        return None, creator, round(0.1 + 0.15 * unit(token.mint, "share"), 4)
    if roll < 0.2:
        return None, None, round(0.31 + 0.3 * unit(token.mint, "share"), 4)
    return None, None, round(0.08 + 0.2 * unit(token.mint, "share"), 4)


def birdeye_token_security(data: Prices, mint: str) -> Json | None:
    """`data` of /defi/token_security, with the keys of Birdeye's recorded example, in its order."""
    token = data.asset(mint)
    if token is None:
        return None
    mint_authority, freeze_authority, share = security_of(token)
    creator = derived_address("token creator", token.mint)
    created = listed_at(data.market, token) - 600
    supply = token.supply
    return {
        "creatorAddress": creator,
        "creatorOwnerAddress": None,
        "ownerAddress": mint_authority,
        "ownerOfOwnerAddress": None,
        "creationTx": derived_address("creation tx", token.mint) + derived_address("creation tx 2", token.mint)[:44],
        "creationTime": created,
        "creationSlot": data.market.slot_at(created),
        "mintTx": derived_address("mint tx", token.mint) + derived_address("mint tx 2", token.mint)[:44],
        "mintTime": created + 30,
        "mintSlot": data.market.slot_at(created + 30),
        "creatorBalance": round(supply * 0.01 * unit(token.mint, "creator"), 6),
        "ownerBalance": None,
        "ownerPercentage": None,
        "creatorPercentage": round(0.01 * unit(token.mint, "creator"), 12),
        "metaplexUpdateAuthority": creator,
        "metaplexOwnerUpdateAuthority": None,
        "metaplexUpdateAuthorityBalance": round(supply * 0.01 * unit(token.mint, "creator"), 6),
        "metaplexUpdateAuthorityPercent": round(0.01 * unit(token.mint, "creator"), 12),
        "mutableMetadata": unit(token.mint, "mutable") < 0.5,
        "top10HolderBalance": supply * share,
        "top10HolderPercent": share,
        "top10UserBalance": supply * share,
        "top10UserPercent": share,
        "isTrueToken": None,
        "fakeToken": None,
        "totalSupply": supply,
        "preMarketHolder": [],
        "lockInfo": None,
        "freezeable": True if freeze_authority else None,
        "freezeAuthority": freeze_authority,
        "transferFeeEnable": None,
        "transferFeeData": None,
        "isToken2022": False,
        "nonTransferable": None,
        "jupStrictList": token.kind in ("quote", "bluechip"),
    }


def dexscreener_token_profiles(data: Prices) -> list[Json]:
    """/token-profiles/latest/v1: the newest listings' profiles, newest first, another chain's among them."""
    profiles = []
    for token in newest_listings(data)[:PROFILES_SHOWN]:
        profile = _profile(token)
        profile["cto"] = unit(token.mint, "cto") < 0.1
        profiles.append(profile)
    profiles.insert(min(3, len(profiles)), dict(_OTHER_CHAIN_PROFILE))
    return profiles


def boosted(data: Prices) -> list[Token]:
    """The tokens boosted this hour: a few listed, not rugged ones, picked afresh every hour."""
    market, hour = data.market, data.minute // 60
    candidates = [t for t in market.tokens if data.asset(t.mint) and not market.is_rugged(t, data.minute)]
    ranked = sorted(candidates, key=lambda t: unit(t.mint, "boost", str(hour)))
    return ranked[:BOOSTED_PER_HOUR]


def dexscreener_token_boosts(data: Prices) -> list[Json]:
    """/token-boosts/latest/v1: this hour's boosts (a profile plus `amount` and `totalAmount`)."""
    boosts = []
    hour = data.minute // 60
    for token in boosted(data):
        amount = BOOST_AMOUNTS[int(unit(token.mint, "amount", str(hour)) * len(BOOST_AMOUNTS))]
        earlier = int(unit(token.mint, "earlier boosts", str(hour // 24)) * 3)
        entry = _profile(token)
        entry["icon"] = hashlib.sha256(token.mint.encode()).hexdigest()  # a bare hash, as recorded
        entry["totalAmount"] = amount * (1 + earlier)
        entry["amount"] = amount
        boosts.append(entry)
    return boosts


def _profile(token: Token) -> Json:
    url = f"https://dexscreener.com/solana/{token.mint.lower()}"
    links: list[Json] = []
    if token.website:
        links.append({"label": "Website", "url": token.website})
    links.append({"type": "twitter", "url": f"https://x.com/{derived_address('handle', token.mint)[:12]}"})
    return {
        "url": url,
        "chainId": "solana",
        "tokenAddress": token.mint,
        "icon": f"https://cdn.dexscreener.com/cms/images/{hashlib.sha256(token.mint.encode()).hexdigest()}"
        "?width=64&height=64&fit=crop&quality=95&format=auto",
        "header": f"https://cdn.dexscreener.com/cms/images/{hashlib.sha256(token.symbol.encode()).hexdigest()}"
        "?width=600&height=200&fit=crop&quality=95&format=auto",
        "openGraph": f"https://cdn.dexscreener.com/token-images/og/solana/{token.mint.lower()}",
        "description": f"{token.name} ({token.symbol}) on Solana.",
        "links": links,
    }


def _human_time(unix: int) -> str:
    """Birdeye's human time: ISO 8601 without a zone (it is UTC)."""
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _logo(token: Token) -> str:
    return f"https://ipfs.io/ipfs/Qm{derived_address('logo', token.mint)[:44]}"

