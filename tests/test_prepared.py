"""Prepared queries: SQL built once per shape, values bound per run — the same rows as the ORM's own
query for every value, never the first run's rows again."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import CharField, F, IntegerField
from django.test.utils import CaptureQueriesContext

from aura.prepared import Bind, Prepared
from tests.builders import address, usdc_swap
from whales import selectors
from whales.ingestion.ingest import ingest
from whales.models import ArrivedVia, Position, Realization, Token, TrackedWallet

pytestmark = pytest.mark.django_db(transaction=True)

T0 = 1_700_000_000


def trade(wallet: TrackedWallet, mint: str, side: str, tokens: str, usdc: str, at: int) -> None:
    ingest([usdc_swap(wallet.address, mint, side, tokens, usdc, at)], ArrivedVia.WEBHOOK)


@pytest.fixture
def traders() -> list[TrackedWallet]:
    """Three wallets with different books: open positions, closed cycles, nothing."""
    wallets = [TrackedWallet.objects.create(address=address(f"prepared {n}"), label=f"w{n}") for n in range(3)]
    first, second, _ = wallets
    for n in range(3):
        mint = address(f"prepared token {n}")
        trade(first, mint, "buy", "100", str(10 * (n + 1)), T0 + 10 * n)
        trade(first, mint, "sell", "100", str(15 * (n + 1)), T0 + 10 * n + 5)
    trade(first, address("prepared token open"), "buy", "5", "50", T0 + 100)
    trade(second, address("prepared token 0"), "buy", "7", "70", T0 + 200)
    return wallets


def fields_of(instances: list) -> list[dict]:
    return [{k: v for k, v in vars(i).items() if k != "_state"} for i in instances]


def test_each_run_binds_its_own_values(traders):
    holdings = Prepared(
        lambda: (
            Position.objects.filter(wallet_id=Bind("wallet", IntegerField()), holdings__gt=0)
            .select_related("token")
            .order_by("token__mint")
        )
    )
    for wallet in [*traders, *traders]:
        expected = list(
            Position.objects.filter(wallet=wallet, holdings__gt=0).select_related("token").order_by("token__mint")
        )
        got = holdings.rows(wallet=wallet.id)
        assert fields_of(got) == fields_of(expected)
        assert [p.token.mint for p in got] == [p.token.mint for p in expected]
    assert len(holdings.rows(wallet=traders[0].id)) == 1 and holdings.rows(wallet=traders[2].id) == []


def test_the_sql_is_built_once_per_shape(traders, monkeypatch):
    built = []
    by_label = Prepared(
        lambda descending: (
            built.append(descending)
            or TrackedWallet.objects.filter(label__startswith=Bind("prefix", CharField()))
            .order_by("-label" if descending else "label")
            .values_list("label", flat=True)
        )
    )
    assert by_label.rows(False, prefix="w") == ["w0", "w1", "w2"]
    assert by_label.rows(True, prefix="w") == ["w2", "w1", "w0"]
    assert by_label.rows(False, prefix="w1") == ["w1"]
    assert by_label.rows(True, prefix="nobody") == []
    assert built == [False, True]


def test_it_runs_the_query_it_compiled_with_the_new_values(traders):
    by_address = Prepared(lambda: TrackedWallet.objects.filter(address=Bind("address", CharField()))[:1])
    by_address.first(address=traders[0].address)
    with CaptureQueriesContext(connection) as queries:
        found = by_address.first(address=traders[1].address)
    assert found == traders[1] and found.label == "w1"
    assert len(queries) == 1 and traders[1].address in queries[0]["sql"]


def test_a_shape_that_matches_nothing_gives_no_rows(traders):
    page = Prepared(
        lambda start, stop: (
            TrackedWallet.objects.filter(label__startswith=Bind("prefix", CharField()))
            .order_by("label")
            .values_list("label", flat=True)[start:stop]
        )
    )
    assert page.rows(0, 0, prefix="w") == []
    assert page.rows(1, 3, prefix="w") == ["w1", "w2"]


def test_every_marker_must_be_given_and_nothing_else(traders):
    by_address = Prepared(lambda: TrackedWallet.objects.filter(address=Bind("address", CharField())))
    with pytest.raises(TypeError, match="binds"):
        by_address.rows()
    with pytest.raises(TypeError, match="binds"):
        by_address.rows(address=traders[0].address, wallet=1)
    with pytest.raises(TypeError, match="None"):
        by_address.rows(address=None)


def test_annotations_and_values_come_back_as_the_orm_gives_them(traders):
    flows = Prepared(
        lambda: (
            Position.objects.filter(wallet_id=Bind("wallet", IntegerField()))
            .annotate(net_flow=F("bought_usd") - F("sold_usd"))
            .order_by("id")
            .values("id", "net_flow", "token__symbol", "last_trade_at")
        )
    )
    for wallet in traders:
        expected = list(
            Position.objects.filter(wallet=wallet)
            .annotate(net_flow=F("bought_usd") - F("sold_usd"))
            .order_by("id")
            .values("id", "net_flow", "token__symbol", "last_trade_at")
        )
        assert flows.rows(wallet=wallet.id) == expected


def test_a_run_in_another_thread_uses_that_threads_connection(traders):
    names = Prepared(lambda: Token.objects.filter(id=Bind("token", IntegerField())).values_list("mint", flat=True))
    token = Token.objects.order_by("id").first()
    assert names.rows(token=token.id) == [token.mint]  # compiled here, on this thread's connection
    seen = []

    def elsewhere() -> None:
        try:
            seen.append(names.rows(token=token.id))
        finally:
            connection.close()

    worker = threading.Thread(target=elsewhere)
    worker.start()
    worker.join()
    assert seen == [[token.mint]]


def test_page_reads_match_the_querysets_they_replace(traders):
    for wallet in traders:
        assert fields_of(selectors.open_positions(wallet)) == fields_of(
            Position.objects.filter(wallet=wallet, holdings__gt=0).order_by(F("cost_basis").desc(nulls_last=True))
        )
        cycles = selectors.ClosedCycles(wallet)
        assert cycles.count() == selectors.closed_cycles(wallet).count()
        for start, stop in [(0, 2), (2, 4), (0, 25)]:
            assert fields_of(cycles[start:stop]) == fields_of(list(selectors.closed_cycles(wallet)[start:stop]))
        assert selectors.has_sells(wallet) == Realization.objects.filter(wallet=wallet).exists()
        assert selectors.recent_swaps(wallet=wallet) == selectors.feed_swaps(selectors.swap_feed(wallet=wallet))
        assert selectors.tracked_wallet(wallet.address) == wallet
    assert selectors.tracked_wallet(address("nobody")) is None
    for token in Token.objects.all():
        assert selectors.recent_swaps(token=token) == selectors.feed_swaps(selectors.swap_feed(token=token))
        assert selectors.token_by_mint(token.mint) == token
    assert selectors.recent_swaps() == selectors.feed_swaps(selectors.swap_feed())
