"""Prices and market statistics of the market's assets in Birdeye's, DexScreener's and Jupiter's shapes."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from simulator.base58 import derived_address
from simulator.market import DAY_MINUTES, MINUTE, USDC_MINT, WSOL_MINT, Market, Token
from simulator.payloads.helius import Json

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
