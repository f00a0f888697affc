"""What a trader's screen shows, in a real Chromium against Daphne: the leaderboard fits its card on a
desktop and on a phone, the nav folds, charts of memecoin prices have readable axes, and the browser
formats numbers by the server's rule."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portfolios.models import Follow
from tests.builders import address, usdc_swap
from tests.conftest import PASSWORD, log_in, off_the_browser_thread
from tests.test_numbers import RULE
from whales.ingestion.ingest import ingest
from whales.models import ArrivedVia, BackfillState, Token, TokenPrice, TrackedWallet, WalletStats, Window

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP, PHONE = {"width": 1440, "height": 900}, {"width": 390, "height": 844}


def wide_whale(n: int) -> TrackedWallet:
    """A wallet whose every figure is as wide as figures get (seven digits, signs, markers, tags)."""
    wallet = TrackedWallet.objects.create(
        address=address(f"wide whale {n}"),
        label=f"Whale {n:03} · sniper with a long label",
        tags=["memecoins", "pump.fun", "early"],
        backfill_state=BackfillState.DONE,
    )
    for window in Window.values:
        WalletStats.objects.create(
            wallet=wallet,
            window=window,
            total_pnl=Decimal("-987654.32"),
            realized_pnl=Decimal("-999999.99"),
            unrealized_pnl=Decimal("12345.67"),
            roi=Decimal("-12.3456"),
            volume_usd=Decimal("999999.99"),
            swap_count=12345,
            cycles=1234,
            cycle_wins=617,
            win_rate=Decimal("0.5"),
            win_rate_low=Decimal("0.47"),
            win_rate_high=Decimal("0.53"),
            rankable=True,
            sells=4321,
            sell_wins=2001,
            sell_win_rate=Decimal("0.463"),
            incomplete=True,
            pending_trades=12,
            unpriced_positions=3,
            last_active=timezone.now() - timedelta(days=3),
        )
    return wallet


LAYOUT = """() => {
  const table = document.querySelector('#leaderboard table, table.lb');
  const card = table.closest('.card').getBoundingClientRect();
  const rendered = (cells) => [...cells].filter(c => c.getClientRects().length);
  const shown = rendered(table.querySelectorAll('thead th, tbody tr:first-child td'));
  const outside = shown.filter(c => {
    const r = c.getBoundingClientRect();
    return r.left < card.left - 0.5 || r.right > card.right + 0.5;
  }).map(c => c.textContent.trim() || c.className);
  return {
    outside,
    columns: table.querySelectorAll('thead th').length,
    shown: rendered(table.querySelectorAll('thead th')).map(c => c.textContent.trim()),
    pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  };
}"""


def layout_of(page) -> dict:
    page.wait_for_selector("main table tbody tr")
    return page.evaluate(LAYOUT)


@pytest.mark.parametrize("path", ["/", "/following/"])
def test_every_leaderboard_column_lies_inside_its_card_on_a_1440_px_desktop(daphne_server, new_page, alice, path):
    for n in range(3):
        Follow.objects.create(user=alice, wallet=wide_whale(n))
    page = new_page()
    page.set_viewport_size(DESKTOP)
    log_in(page, daphne_server, "alice", PASSWORD)
    page.goto(f"{daphne_server.url}{path}")

    layout = layout_of(page)

    assert layout["outside"] == []
    assert len(layout["shown"]) == layout["columns"] == 12  # every column, none folded away
    assert layout["pageWidth"] <= layout["viewport"]


@pytest.mark.parametrize("width", [1280, 1920, 2560])
def test_the_leaderboard_keeps_every_column_from_1280_to_2560_px(daphne_server, new_page, alice, width):
    wide_whale(1)
    page = new_page()
    page.set_viewport_size({"width": width, "height": 1000})
    log_in(page, daphne_server, "alice", PASSWORD)

    layout = layout_of(page)

    assert layout["outside"] == [] and len(layout["shown"]) == 12
    assert layout["pageWidth"] <= layout["viewport"]


@pytest.mark.parametrize("path", ["/", "/following/", "/status/", "/settings/alerts/", "wallet", "token"])
def test_on_a_390_px_phone_no_page_is_wider_than_the_screen_and_the_leaderboard_fits_its_card(
    daphne_server, new_page, admin_user, path
):
    for n in range(3):
        Follow.objects.create(user=admin_user, wallet=wide_whale(n))
    trader = TrackedWallet.objects.get(label__startswith="Whale 000")
    mint = address("phone token")
    trades = [usdc_swap(trader.address, mint, "buy", "123456789.123", "98765.43", 1_760_000_000 + n) for n in range(3)]
    off_the_browser_thread(ingest, trades, ArrivedVia.WEBHOOK)
    path = {"wallet": f"/wallets/{trader.address}/", "token": f"/tokens/{mint}/"}.get(path, path)
    admin_user.set_password(PASSWORD)
    admin_user.save()
    page = new_page()
    page.set_viewport_size(PHONE)
    log_in(page, daphne_server, admin_user.username, PASSWORD)
    page.goto(f"{daphne_server.url}{path}")
    page.wait_for_load_state("networkidle")

    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    if path in ("/", "/following/"):
        layout = layout_of(page)
        assert layout["outside"] == []
        assert {"Wallet", "Total P&L", "Win rate"} <= {label.rstrip(" ▲▼") for label in layout["shown"]}


def test_on_a_phone_the_nav_folds_behind_a_menu_button(daphne_server, new_page, alice):
    page = new_page()
    page.set_viewport_size(PHONE)
    log_in(page, daphne_server, "alice", PASSWORD)

    following = page.get_by_role("link", name="Following")
    expect(following).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(following).to_be_visible()
    following.click()
    expect(page.get_by_role("heading", name="Wallets you follow")).to_be_visible()


RECORD_CANVAS_TEXT = """
window.__drawnText = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, x, y, maxWidth) {
  window.__drawnText.push(String(text));
  return fillText.apply(this, arguments);
};
"""


def test_a_memecoin_price_chart_has_distinct_non_zero_axis_labels_and_legend(daphne_server, new_page, alice):
    token = Token.objects.create(mint=address("tiny token"), symbol="TINY", price_usd=Decimal("0.00002"))
    now = timezone.now()
    for minute, price in enumerate(["0.0000200", "0.0000212", "0.0000207", "0.0000221", "0.0000216", "0.0000203"]):
        TokenPrice.objects.create(token=token, at=now - timedelta(minutes=30 - minute * 5), price_usd=Decimal(price))
    page = new_page()
    page.add_init_script(RECORD_CANVAS_TEXT)  # uPlot draws its axes on a canvas: read what it wrote
    page.set_viewport_size(DESKTOP)
    log_in(page, daphne_server, "alice", PASSWORD)
    page.goto(f"{daphne_server.url}/tokens/{token.mint}/")
    page.wait_for_selector("[data-chart] .u-over")

    labels = [text for text in page.evaluate("window.__drawnText") if text.startswith("$")]
    assert len(labels) >= 3
    assert len(set(labels)) == len(labels)  # distinct
    assert all(any(digit in label for digit in "123456789") for label in labels), labels  # none reads $0
    page.locator("[data-chart] .u-over").hover()
    legend = page.locator("[data-chart] .u-legend .u-series").nth(1).locator(".u-value")
    expect(legend).to_have_text(re.compile(r"^\$0\.0000\d{2,4}$"))
    assert "Price, since" in page.content() and "last 7 days" not in page.content()  # minutes of data


def test_the_browser_formats_numbers_by_the_same_rule_as_the_server(daphne_server, new_page, alice):
    page = new_page()
    log_in(page, daphne_server, "alice", PASSWORD)
    functions = {"price": "price", "usd": "usd", "signed_usd": "signedUsd", "amount": "amount", "percent": "percent"}

    shown = page.evaluate(
        "rows => rows.map(([f, v]) => window.AURA.format[f](v))", [[functions[kind], value] for kind, value, _ in RULE]
    )

    assert shown == [expected for _, _, expected in RULE]


def test_the_realized_pnl_chart_reads_in_dollars_and_cents(daphne_server, new_page, alice):
    trader = TrackedWallet.objects.create(address=address("chart trader"), label="chart trader")
    mint = address("chart token")
    trades = [
        usdc_swap(trader.address, mint, "buy", "100", "100", 1_760_000_000),
        usdc_swap(trader.address, mint, "sell", "50", "80", 1_760_000_600),
        usdc_swap(trader.address, mint, "sell", "50", "90.5", 1_760_001_200),
    ]
    off_the_browser_thread(ingest, trades, ArrivedVia.WEBHOOK)
    page = new_page()
    page.set_viewport_size(DESKTOP)
    log_in(page, daphne_server, "alice", PASSWORD)
    page.goto(f"{daphne_server.url}/wallets/{trader.address}/")
    page.wait_for_selector("[data-chart] .u-over")

    page.locator("[data-chart] .u-over").hover(position={"x": 2, "y": 10})  # the first sell
    legend = page.locator("[data-chart] .u-legend .u-series").nth(1).locator(".u-value")
    expect(legend).to_have_text("+$30.00")


def test_a_chart_of_a_single_price_point_spans_hours_around_it_not_years(daphne_server, new_page, alice):
    token = Token.objects.create(mint=address("one point token"), symbol="ONE", price_usd=Decimal("0.0000083"))
    TokenPrice.objects.create(token=token, at=timezone.now() - timedelta(minutes=5), price_usd=Decimal("0.0000083"))
    page = new_page()
    log_in(page, daphne_server, "alice", PASSWORD)
    page.goto(f"{daphne_server.url}/tokens/{token.mint}/")
    page.wait_for_selector("[data-chart] .u-over")

    x_min, x_max, y_min = page.evaluate(
        "() => { const s = document.querySelector('[data-chart]').chart.scales; return [s.x.min, s.x.max, s.y.min]; }"
    )

    assert x_max - x_min == 2 * 3600  # uPlot alone padded one point by 1,000 days
    assert y_min > 0  # and drew the value axis from $0.00
