"""Pages of the dashboard: thin views over stored rows (no page aggregates raw swaps per request)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlencode

import redis as redis_lib
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, DateTimeField, IntegerField, Max, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from aura import realtime
from aura.prepared import Bind, Prepared
from providers.http import CreditMeter
from whales import fragments, rows
from whales.books import pnl
from whales.ingestion.sources import poll_plan
from whales.live import LIVE_SWAPS
from whales.models import (
    ArrivedVia,
    BackfillState,
    Position,
    Quarantined,
    RawTransaction,
    Realization,
    Swap,
    Token,
    TokenPrice,
    TrackedWallet,
    Window,
)
from whales.selectors import (
    FEED_PAGE_SIZE,
    HOLDER_SORTS,
    LEADERBOARD_PAGE_SIZE,
    PRICE_STALE_AFTER,
    TOKEN_HOLDERS_LIMIT,
    ClosedCycles,
    FeedFilter,
    LeaderboardQuery,
    RowsByIdPaginator,
    feed_swaps,
    has_sells,
    recent_swaps,
    swap_feed,
    token_by_mint,
    token_positions,
    tracked_wallet,
    wallet_tags,
)
from whales.solana import InvalidAddress, validate_solana_address
from whales.wallets import import_wallets

CATCH_UP_LIMIT = 500
QUARANTINE_SHOWN = 10


def _leaderboard_context(request: HttpRequest) -> dict:
    query = LeaderboardQuery.from_request(request)
    tokens = query.matching_tokens()
    stats = query.stats(tokens=tokens).only(*rows.LEADERBOARD_ROW_FIELDS)
    paginator = RowsByIdPaginator(stats, LEADERBOARD_PAGE_SIZE, count_with_ids=bool(query.search))
    page = paginator.get_page(request.GET.get("page"))
    return {
        "query": query,
        "page": page,
        "sort_links": query.sort_links(),
        "matching_tokens": tokens,
        "windows": Window.choices,
        "min_cycles_to_rank": pnl.MIN_CYCLES_TO_RANK,
        # Read for the empty state only, whichever way the table is asked for (page or htmx refresh).
        "tracked": 0 if page.paginator.count else TrackedWallet.objects.filter(is_active=True).count(),
    }


# --- pages -------------------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The leaderboard (sortable, filterable) beside the live swap feed."""
    context = _leaderboard_context(request)
    if request.htmx and request.htmx.target == "leaderboard":
        return render(request, "whales/_leaderboard.html", context)
    query = context["query"]
    narrowed = FeedFilter.from_query(request.GET)
    context.update(
        swaps=feed_swaps(swap_feed(narrowed=narrowed)) if narrowed.params() else recent_swaps(),
        feed_query=urlencode(narrowed.params()),
        feed_filter=narrowed,
        feed_scope={},
        tags=wallet_tags(),
        live_groups=f"{realtime.FEED_TRADES},{realtime.FEED_SIGNALS},{realtime.leaderboard_group(query.window)}",
    )
    return render(request, "whales/dashboard.html", context)


def _address_problem(address: str) -> str:
    """Why `address` is not a Solana address ("" when it is one)."""
    try:
        validate_solana_address(address)
    except InvalidAddress as error:
        return str(error)
    return ""


def _wallet_not_found(request: HttpRequest, address: str) -> HttpResponse:
    """A page in the site's layout: a malformed address (400), or a valid one AURA does not track
    (404, with a button for staff to track it)."""
    problem = _address_problem(address)
    context = {"address": address, "problem": problem, "backfill_days": settings.BACKFILL_DAYS}
    return render(request, "whales/wallet_missing.html", context, status=400 if problem else 404)


def _token_not_found(request: HttpRequest, mint: str) -> HttpResponse:
    problem = _address_problem(mint)
    context = {"mint": mint, "problem": problem}
    return render(request, "whales/token_missing.html", context, status=400 if problem else 404)


@login_required
@require_POST
def track_wallet(request: HttpRequest, address: str) -> HttpResponse:
    """Staff: track a wallet found untracked (its page offers this); its history starts loading."""
    if not request.user.is_staff:
        raise PermissionDenied
    label = request.POST.get("label", "").strip()[:100]
    [outcome] = import_wallets([(1, {"address": address, "label": label})], added_by=request.user)
    if outcome.status == "error":
        return _wallet_not_found(request, address)
    if outcome.status == "added":
        messages.success(request, "Tracking it now: its history is loading, and new swaps show as they land.")
    return redirect("wallet", address=address)


@login_required
def wallet_page(request: HttpRequest, address: str) -> HttpResponse:
    wallet = tracked_wallet(address)
    if wallet is None:
        return _wallet_not_found(request, address)
    swaps = recent_swaps(wallet=wallet)
    cycles = Paginator(ClosedCycles(wallet), 25).get_page(request.GET.get("cycles_page"))
    context = {
        **fragments.wallet_stats_context(wallet),
        **fragments.wallet_positions_context(wallet),
        "swaps": swaps,
        "cycles": cycles,
        # The chart fetches its series (wallet_chart): the page weighs the same for any history.
        "has_sells": has_sells(wallet),
        "feed_query": urlencode({"wallet": wallet.address}),
        "live_groups": realtime.wallet_group(wallet.address),
        "is_following": request.user.follows.filter(wallet=wallet).exists(),
    }
    return render(request, "whales/wallet.html", context)


# Charts get at most this many points, summed or sampled per time bucket by PostgreSQL: what reaches
# Python and the browser is bounded, however long the history.
CHART_POINTS = 500

# Sells bucketed over the wallet's span; a point per bucket: its last sell's time and the realized
# P&L summed up to the end of that bucket.
CUMULATIVE_REALIZED_SQL = f"""
SELECT floor(max(t))::bigint, sum(sum(realized_pnl)) OVER (ORDER BY bucket)
FROM (
    SELECT extract(epoch FROM r.at) AS t, r.realized_pnl,
           width_bucket(extract(epoch FROM r.at), span.lo, span.hi + 1, %(points)s) AS bucket
    FROM {Realization._meta.db_table} r,
         (SELECT extract(epoch FROM min(at)) AS lo, extract(epoch FROM max(at)) AS hi
          FROM {Realization._meta.db_table} WHERE wallet_id = %(wallet)s) span
    WHERE r.wallet_id = %(wallet)s
) sells
GROUP BY bucket
ORDER BY bucket
"""


def cumulative_realized(wallet: TrackedWallet, points: int = CHART_POINTS) -> dict[str, list]:
    """{"t": [unix seconds], "v": [cumulative realized USD]}: one point per sell while there are at
    most `points` sells, else one per time bucket (its last sell's time, the total at its end)."""
    with connection.cursor() as cursor:
        cursor.execute(CUMULATIVE_REALIZED_SQL, {"wallet": wallet.id, "points": points})
        rows = cursor.fetchall()
    # A chart: floats are fine here, the figures on the page are exact.
    return {"t": [t for t, _ in rows], "v": [round(float(total), 2) for _, total in rows]}


@login_required
@require_GET
def wallet_chart(request: HttpRequest, address: str) -> JsonResponse:
    """The wallet page chart's series: cumulative realized P&L, at most CHART_POINTS points."""
    wallet = get_object_or_404(TrackedWallet, address=address)
    return JsonResponse(cumulative_realized(wallet))


PRICE_CHART_SPAN = timedelta(days=7)


def _sort_links(columns: Iterable[str], sort: str, descending: bool) -> dict[str, str]:
    """column → the query that sorts by it: the other way round when it is the sort already; names
    A to Z, figures biggest first otherwise."""
    links = {}
    for column in columns:
        if column == sort:
            direction = "asc" if descending else "desc"
        else:
            direction = "asc" if column == "wallet" else "desc"
        links[column] = urlencode({"sort": column, "dir": direction})
    return links


_FIRST_PRICE_SINCE = Prepared(
    lambda: (
        TokenPrice.objects.filter(token_id=Bind("token", IntegerField()), at__gte=Bind("since", DateTimeField()))
        .order_by("at")
        .values_list("at", flat=True)[:1]
    )
)


@login_required
def token_page(request: HttpRequest, mint: str) -> HttpResponse:
    token = token_by_mint(mint)
    if token is None:
        return _token_not_found(request, mint)
    sort = request.GET.get("sort") if request.GET.get("sort") in HOLDER_SORTS else "holdings"
    descending = request.GET.get("dir", "asc" if sort == "wallet" else "desc") != "asc"
    sold_out_sort = "last_trade" if sort in ("holdings", "unrealized") else sort
    now = timezone.now()
    since = _FIRST_PRICE_SINCE.first(token=token.id, since=now - PRICE_CHART_SPAN)
    context = {
        "token": token,
        "holders": list(token_positions(token, holding=True, sort=sort, descending=descending)),
        "sold_out": list(token_positions(token, holding=False, sort=sold_out_sort, descending=descending)),
        "sort": sort,
        "descending": descending,
        "sort_links": _sort_links(HOLDER_SORTS, sort, descending),
        "holders_limit": TOKEN_HOLDERS_LIMIT,
        "swaps": recent_swaps(token=token),
        "feed_query": urlencode({"token": token.mint}),
        "live_groups": realtime.token_group(token.mint),
        # The chart fetches its series (token_chart); its title says how far back the data goes.
        "chart_since": since,
        "chart_full_span": since is not None and since <= now - PRICE_CHART_SPAN + timedelta(hours=1),
        "price_stale": token.price_is_stale(now, PRICE_STALE_AFTER),
    }
    return render(request, "whales/token.html", context)


# The token's prices of the chart's span bucketed by time; a point per bucket: its last price.
PRICE_SERIES_SQL = f"""
SELECT floor(max(t))::bigint, (array_agg(price_usd ORDER BY t DESC))[1]
FROM (
    SELECT extract(epoch FROM at) AS t, price_usd,
           width_bucket(extract(epoch FROM at), %(lo)s, %(hi)s, %(points)s) AS bucket
    FROM {TokenPrice._meta.db_table}
    WHERE token_id = %(token)s AND at >= %(since)s
) prices
GROUP BY bucket
ORDER BY bucket
"""


def price_series(token: Token, now: datetime | None = None, points: int = CHART_POINTS) -> dict[str, list]:
    """{"t": [unix seconds], "v": [USD]}: the token's stored prices over PRICE_CHART_SPAN, every
    point while there are at most `points` of them over the span, else the last of each bucket."""
    now = now or timezone.now()
    since = now - PRICE_CHART_SPAN
    bounds = {"lo": since.timestamp(), "hi": now.timestamp() + 1, "points": points}
    with connection.cursor() as cursor:
        cursor.execute(PRICE_SERIES_SQL, {**bounds, "token": token.id, "since": since})
        rows = cursor.fetchall()
    return {"t": [t for t, _ in rows], "v": [float(price) for _, price in rows]}


@login_required
@require_GET
def token_chart(request: HttpRequest, mint: str) -> JsonResponse:
    """The token page chart's series: prices of the last 7 days, at most CHART_POINTS points."""
    token = get_object_or_404(Token, mint=mint)
    return JsonResponse(price_series(token))


# --- staff status ------------------------------------------------------------------------------------

LATENCY_SQL = f"""
SELECT count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pushed_at - ingested_at)),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM pushed_at - ingested_at)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pushed_at - block_time)),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM pushed_at - block_time)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ingested_at - block_time))
FROM {Swap._meta.db_table}
WHERE ingested_at >= %s AND pushed_at IS NOT NULL
"""


def latency_last_hour(now: datetime | None = None) -> dict[str, float | int | None]:
    """Percentiles (seconds) of block → ingest → push for swaps pushed in the last hour."""
    since = (now or timezone.now()) - timedelta(hours=1)
    with connection.cursor() as cursor:
        cursor.execute(LATENCY_SQL, [since])
        count, ingest_p50, ingest_p95, block_p50, block_p95, arrival_p50 = cursor.fetchone()
    return {
        "count": count,
        "ingest_to_push_p50": ingest_p50,
        "ingest_to_push_p95": ingest_p95,
        "block_to_push_p50": block_p50,
        "block_to_push_p95": block_p95,
        "block_to_ingest_p50": arrival_p50,
    }


@login_required
def status(request: HttpRequest) -> HttpResponse:
    """Staff only: how fresh the data is, what ingestion costs, what is failing."""
    if not request.user.is_staff:
        raise PermissionDenied
    now = timezone.now()
    wallets = TrackedWallet.objects.filter(is_active=True)
    counts = wallets.aggregate(
        active=Count("id"),
        erroring=Count("id", filter=~Q(last_error="")),
        backfilling=Count("id", filter=Q(backfill_state__in=[BackfillState.PENDING, BackfillState.RUNNING])),
        backfill_retrying=Count("id", filter=Q(backfill_state=BackfillState.RUNNING, backfill_retry_at__gt=now)),
        backfill_failed=Count("id", filter=Q(backfill_state=BackfillState.FAILED)),
        polled_last_hour=Count("id", filter=Q(last_polled_at__gte=now - timedelta(hours=1))),
    )
    credits = _credits_today()
    plan = poll_plan(now)
    context = {
        "latency": latency_last_hour(now),
        "wallets": counts,
        "failing": wallets.exclude(last_error="").order_by("-last_error_at")[:20],
        "credits": credits,
        "plan": plan,
        # The plan counts one page a poll; backfills, webhook upkeep and polls that page further spend
        # from the same Helius plan, so what was really spent is checked against the budget too.
        "over_budget": bool(plan.budget and credits["helius"] is not None and credits["helius"] > plan.budget),
        "last_webhook": RawTransaction.objects.filter(arrived_via=ArrivedVia.WEBHOOK).aggregate(at=Max("received_at"))[
            "at"
        ],
        "swaps_last_hour": Swap.objects.filter(ingested_at__gte=now - timedelta(hours=1)).count(),
        "unvalued": Swap.objects.filter(usd_value=None).count(),
        "quarantined": Quarantined.objects.order_by("-last_seen_at")[:QUARANTINE_SHOWN],
        "quarantined_count": Quarantined.objects.count(),
        "stale_prices": Token.objects.filter(positions__holdings__gt=0)
        .filter(Q(price_updated_at=None) | Q(price_updated_at__lt=now - PRICE_STALE_AFTER))
        .distinct()
        .count(),
    }
    return render(request, "whales/status.html", context)


def _credits_today() -> dict[str, int | None]:
    try:
        meter = CreditMeter(redis_lib.Redis.from_url(settings.REDIS_URL, socket_timeout=2), "aura:credits")
        return {provider: meter.spent(provider, timezone.now().date()) for provider in ("helius", "birdeye")}
    except redis_lib.RedisError:
        return {"helius": None, "birdeye": None}


# --- fragments -----------------------------------------------------------------------------------------


def _feed_filters(request: HttpRequest) -> tuple[TrackedWallet | None, Token | None]:
    wallet = token = None
    if address := request.GET.get("wallet"):
        wallet = TrackedWallet.objects.filter(address=address).first()
        if wallet is None:
            raise Http404("No such tracked wallet.")
    if mint := request.GET.get("token"):
        token = Token.objects.filter(mint=mint).first()
        if token is None:
            raise Http404("No such token.")
    return wallet, token


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@login_required
@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    """Rows of a swap feed. `?before=<swap id>` pages back in time: to htmx the rows, appended below the
    feed, and the next "Load older" link; to a plain GET (no JavaScript) a whole page of them.
    `?after=<swap id>` catches up a page that lost its socket: the live swaps ingested after that
    one, sent exactly like a push (out-of-band, on top of #swap-feed)."""
    wallet, token = _feed_filters(request)
    narrowed = FeedFilter.from_query(request.GET)
    scope = {k: request.GET[k] for k in ("wallet", "token", "following") if request.GET.get(k)}
    feed_query = urlencode({**scope, **narrowed.params()})
    swaps = swap_feed(wallet, token, request.user if request.GET.get("following") else None, narrowed)
    swaps = swaps.only(*rows.SWAP_ROW_FIELDS)
    if request.GET.get("view") == "panel":  # the feed anew, as the filters above it now ask
        context = {"swaps": list(swaps[:FEED_PAGE_SIZE]), "feed_query": feed_query, "feed_filter": narrowed}
        return render(request, "whales/_swap_feed.html", context)
    after = _int_param(request, "after")
    if after is not None:
        missed = list(swaps.filter(LIVE_SWAPS, id__gt=after)[:CATCH_UP_LIMIT])
        missed_rows = fragments.swap_rows(missed)
        return HttpResponse(fragments.swap_push([missed_rows[s.id] for s in missed]) if missed else "")
    before = _int_param(request, "before")
    if before is not None:
        anchor = Swap.objects.filter(id=before).values_list("block_time", flat=True).first()
        if anchor is not None:
            swaps = swaps.filter(Q(block_time__lt=anchor) | Q(block_time=anchor, id__lt=before))
    page = list(swaps[: FEED_PAGE_SIZE + 1])
    shown = page[:FEED_PAGE_SIZE]
    context = {"swaps": shown, "has_more": len(page) > FEED_PAGE_SIZE, "feed_query": feed_query}
    if not request.htmx:
        context.update(feed_filter=narrowed, wallet=wallet, token=token, following=bool(request.GET.get("following")))
        response = render(request, "whales/feed.html", context)
    else:
        shown_rows = fragments.swap_rows(shown)
        context["rows"] = [mark_safe(shown_rows[swap.id]) for swap in shown]  # escaped value by value in whales.rows
        response = render(request, "whales/_swap_page.html", context)
    patch_vary_headers(response, ("HX-Request",))  # one URL, two answers: a cache must not swap them
    return response


@login_required
@require_GET
def position_lots(request: HttpRequest, position_id: int) -> HttpResponse:
    """A position's open FIFO lots, loaded when its row is opened (pushed rows stay small)."""
    position = get_object_or_404(Position, id=position_id)
    return render(request, "whales/_lots.html", {"lots": position.lots})


@login_required
@require_GET
def wallet_fragments(request: HttpRequest, address: str) -> HttpResponse:
    """The wallet page's stats and positions, for a page refreshing after a reconnect or a price tick."""
    wallet = get_object_or_404(TrackedWallet, address=address)
    return HttpResponse(fragments.wallet_stats(wallet, oob=True) + fragments.wallet_positions(wallet, oob=True))
