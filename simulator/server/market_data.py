"""The simulator's market-data APIs: Birdeye, DexScreener and Jupiter."""

from __future__ import annotations

import re
from typing import Any

from simulator.base58 import ALPHABET
from simulator.payloads import BIRDEYE_INTERVALS, MarketData, listings
from simulator.server.protocol import HttpError, _Request

DEXSCREENER_MAX_ADDRESSES = 30
JUPITER_MAX_IDS = 50
BIRDEYE_TRENDING_MAX = 20
_ADDRESS = re.compile(f"[{ALPHABET}]{{32,44}}")


class MarketDataApi:
    """Birdeye's, DexScreener's and Jupiter's request handlers, mixed into `MarketSimulator`."""

    # -- Birdeye -------------------------------------------------------------------------------------------

    def _birdeye(self, request: _Request) -> MarketData:
        if not request.headers.get("X-API-KEY"):
            raise HttpError(401, {"success": False, "message": "Unauthorized"})
        return MarketData(self.market, self.now())

    def _birdeye_price(self, request: _Request) -> Any:
        data = self._birdeye(request)
        mint = _birdeye_address(request.param("address"))
        with self.lock:
            return {"data": data.birdeye_price(mint), "success": True}

    def _birdeye_multi_price(self, request: _Request) -> Any:
        data = self._birdeye(request)
        listed = request.param("list_address")
        if request.method == "POST":
            body = request.json()
            listed = body.get("list_address") if isinstance(body, dict) else None
        mints = [m.strip() for m in (listed or "").split(",") if m.strip()]
        if not mints:
            raise HttpError(400, {"success": False, "message": "list_address is required"})
        for mint in mints:
            _birdeye_address(mint)
        with self.lock:
            return {"success": True, "data": data.birdeye_multi_price(mints)}

    def _birdeye_history_price(self, request: _Request) -> Any:
        data = self._birdeye(request)
        mint = _birdeye_address(request.param("address"))
        interval = BIRDEYE_INTERVALS.get(request.param("type") or "")
        if interval is None:
            raise HttpError(400, {"success": False, "message": f"type must be one of {', '.join(BIRDEYE_INTERVALS)}"})
        if request.param("address_type", "token") != "token":
            raise HttpError(400, {"success": False, "message": "the simulator only knows address_type=token"})
        time_from, time_to = _int_param(request, "time_from"), _int_param(request, "time_to")
        with self.lock:
            return {"success": True, "data": data.birdeye_history_price(mint, interval, time_from, time_to)}

    def _birdeye_historical_price_unix(self, request: _Request) -> Any:
        data = self._birdeye(request)
        mint = _birdeye_address(request.param("address"))
        unixtime = _int_param(request, "unixtime")
        with self.lock:
            return {"success": True, "data": data.birdeye_historical_price_unix(mint, unixtime)}

    def _birdeye_token_overview(self, request: _Request) -> Any:
        data = self._birdeye(request)
        mint = _birdeye_address(request.param("address"))
        with self.lock:
            return {"success": True, "data": data.birdeye_token_overview(mint)}

    def _birdeye_token_trending(self, request: _Request) -> Any:
        data = self._birdeye(request)
        sort_by = request.param("sort_by", "rank") or "rank"
        sort_type = request.param("sort_type", "asc") or "asc"
        if sort_by not in ("rank", "volumeUSD", "volume24hUSD", "liquidity") or sort_type not in ("asc", "desc"):
            raise HttpError(400, {"success": False, "message": "bad sort_by or sort_type"})
        offset = _int_param(request, "offset", 0)
        limit = _int_param(request, "limit", BIRDEYE_TRENDING_MAX)
        if not 1 <= limit <= BIRDEYE_TRENDING_MAX or offset < 0:
            raise HttpError(400, {"success": False, "message": f"limit must be 1-{BIRDEYE_TRENDING_MAX}"})
        with self.lock:
            return {"success": True, "data": data.birdeye_token_trending(sort_by, sort_type, offset, limit)}

    def _birdeye_new_listing(self, request: _Request) -> Any:
        data = self._birdeye(request)
        limit = _int_param(request, "limit", 10)
        if not 1 <= limit <= listings.NEW_LISTING_MAX:
            raise HttpError(400, {"success": False, "message": f"limit must be 1-{listings.NEW_LISTING_MAX}"})
        with self.lock:
            return {"success": True, "data": listings.birdeye_new_listing(data, limit)}

    def _birdeye_token_security(self, request: _Request) -> Any:
        data = self._birdeye(request)
        mint = _birdeye_address(request.param("address"))
        with self.lock:
            return {"success": True, "data": listings.birdeye_token_security(data, mint)}

    # -- DexScreener and Jupiter ----------------------------------------------------------------------------

    def _dexscreener_token_profiles(self, request: _Request) -> Any:
        with self.lock:
            return listings.dexscreener_token_profiles(MarketData(self.market, self.now()))

    def _dexscreener_token_boosts(self, request: _Request) -> Any:
        with self.lock:
            return listings.dexscreener_token_boosts(MarketData(self.market, self.now()))

    def _dexscreener_mints(self, request: _Request) -> list[str]:
        mints = [m for m in request.match["mints"].split(",") if m]
        if len(mints) > DEXSCREENER_MAX_ADDRESSES:
            raise HttpError(400, {"error": f"at most {DEXSCREENER_MAX_ADDRESSES} addresses"})
        return mints

    def _dexscreener_tokens_v1(self, request: _Request) -> Any:
        mints = self._dexscreener_mints(request)
        with self.lock:
            return MarketData(self.market, self.now()).dexscreener_pairs(mints)

    def _dexscreener_latest(self, request: _Request) -> Any:
        mints = self._dexscreener_mints(request)
        with self.lock:
            pairs = MarketData(self.market, self.now()).dexscreener_pairs(mints)
        return {"schemaVersion": "1.0.0", "pairs": pairs or None}

    def _jupiter_price(self, request: _Request) -> Any:
        ids = [m.strip() for m in (request.param("ids") or "").split(",") if m.strip()]
        if not ids:
            raise HttpError(400, {"error": "ids is required"})
        if len(ids) > JUPITER_MAX_IDS:
            raise HttpError(400, {"error": f"at most {JUPITER_MAX_IDS} ids"})
        with self.lock:
            return MarketData(self.market, self.now()).jupiter_prices(ids)


def _birdeye_address(address: str | None) -> str:
    if not address:
        raise HttpError(400, {"success": False, "message": "address is required"})
    if not _ADDRESS.fullmatch(address):
        raise HttpError(400, {"success": False, "message": "address is invalid format"})
    return address


def _int_param(request: _Request, name: str, default: int | None = None) -> int:
    text = request.param(name)
    if text in (None, ""):
        if default is None:
            raise HttpError(400, {"success": False, "message": f"{name} is required"})
        return default
    try:
        return int(text)
    except ValueError:
        raise HttpError(400, {"success": False, "message": f"{name} must be an integer"}) from None
