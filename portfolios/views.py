"""Following wallets: thin views over portfolios.actions."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from aura.realtime import leaderboard_group
from portfolios import actions
from whales.models import TrackedWallet, WalletStats, Window
from whales.selectors import FEED_PAGE_SIZE, FeedFilter, LeaderboardQuery, swap_feed


@login_required
@require_POST
def follow(request: HttpRequest, address: str) -> HttpResponse:
    wallet = get_object_or_404(TrackedWallet, address=address)
    following = actions.set_following(request.user, wallet, request.POST.get("follow") == "1")
    if request.htmx:
        return render(request, "portfolios/_follow_button.html", {"wallet": wallet, "is_following": following})
    if request.POST.get("next") == "following":
        return redirect("following")
    return redirect("wallet", address=address)


@login_required
def following(request: HttpRequest) -> HttpResponse:
    """The wallets the user follows (their figures in one window, sortable as the leaderboard) and
    their swaps, live."""
    query = LeaderboardQuery.from_request(request)
    narrowed = FeedFilter.from_query(request.GET)
    stats = query.stats(WalletStats.objects.filter(wallet__followers__user=request.user))
    context = {
        "stats_rows": stats,
        "query": query,
        "sort_links": query.sort_links(),
        "window": query.window,
        "windows": [(value, label, query.params(window=value)) for value, label in Window.choices],
        "swaps": list(swap_feed(followed_by=request.user, narrowed=narrowed)[:FEED_PAGE_SIZE]),
        "feed_query": urlencode({"following": "1", **narrowed.params()}),
        "feed_filter": narrowed,
        "feed_scope": {"following": "1"},
        "live_groups": f"follows,{leaderboard_group(query.window)}",
    }
    return render(request, "portfolios/following.html", context)
