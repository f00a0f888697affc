"""Hostile URLs and queries get a clear 400 or 404, never a 500: NUL characters anywhere in a path or a
query, and page sizes or offsets beyond what a database integer holds."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token as ApiToken

pytestmark = pytest.mark.django_db

NUL_PAGES = [
    "/tokens/%00/",
    "/wallets/%00/",
    "/wallets/%00/live/",
    "/?q=%00",
    "/?tag=%00",
    "/?window=%00&sort=%00",
    "/feed/?wallet=%00",
    "/feed/?token=%00",
    "/feed/?before=%00",
    "/accounts/login/?next=%00",
    "/admin/whales/swap/?q=%00",
    "/admin/whales/trackedwallet/?q=%00",
    "/status/?x=%00",
    "/%00",
]
NUL_API = [
    "/api/v1/leaderboard/?q=%00",
    "/api/v1/leaderboard/?tag=%00",
    "/api/v1/wallets/%00/",
    "/api/v1/tokens/%00/",
    "/api/v1/swaps/?wallet=%00",
    "/api/v1/swaps/?token=%00",
    "/api/v1/swaps/?cursor=%00",
    "/api/v1/follows/?limit=%00",
]
HUGE_PAGES = [
    "/api/v1/follows/?limit=9223372036854775808",
    "/api/v1/follows/?offset=9223372036854775808",
    "/api/v1/follows/?limit=99999999999999999999999999&offset=99999999999999999999999",
    "/api/v1/swaps/?page_size=9223372036854775808",
    "/api/v1/wallets/{whale}/cycles/?page_size=9223372036854775808",
    "/api/v1/leaderboard/?page=9223372036854775808",
    "/api/v1/leaderboard/?page_size=9223372036854775808&min_cycles=9223372036854775808",
    "/?page=9223372036854775808&min_cycles=99999999999999999999999",
    "/?cycles_page=9223372036854775808",
]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", password="pw", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("url", NUL_PAGES + NUL_API)
def test_a_nul_in_a_path_or_query_is_a_clear_client_error(client, staff, url):
    client.raise_request_exception = False
    client.force_login(staff)

    response = client.get(url)

    assert response.status_code in (400, 404), (url, response.status_code)


def test_a_nul_gets_a_plain_400_that_says_why(client, staff):
    client.force_login(staff)
    response = client.get("/?q=%00")
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_an_api_call_with_a_nul_gets_json(client, staff):
    token = ApiToken.objects.create(user=staff)
    response = client.get("/api/v1/leaderboard/?q=%00", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


@pytest.fixture
def world(staff):
    """A followed whale with a closed cycle, so every list has rows to page through."""
    from portfolios.models import Follow
    from tests.builders import address, usdc_swap
    from whales.ingestion.ingest import ingest
    from whales.models import ArrivedVia, TrackedWallet

    whale = TrackedWallet.objects.create(address=address("hostile whale"))
    mint = address("hostile token")
    ingest(
        [
            usdc_swap(whale.address, mint, "buy", "10", "10", 1_760_000_000),
            usdc_swap(whale.address, mint, "sell", "10", "20", 1_760_000_060),
        ],
        ArrivedVia.WEBHOOK,
    )
    Follow.objects.create(user=staff, wallet=whale)
    return whale


@pytest.mark.parametrize("url", HUGE_PAGES)
def test_page_sizes_and_offsets_beyond_a_database_integer_are_capped(client, staff, world, url):
    client.raise_request_exception = False
    client.force_login(staff)

    response = client.get(url.format(whale=world.address))

    assert response.status_code in (200, 400, 404), (url, response.status_code)


@pytest.mark.parametrize(
    "query", ["", "q=hostile&", "q=nobody&", "window=30d&sort=wallet&dir=asc&", "tag=kol&min_cycles=1&"]
)
def test_a_leaderboard_page_past_what_a_database_integer_holds_is_not_found(client, staff, world, query):
    client.raise_request_exception = False
    client.force_login(staff)
    for page in ["9223372036854775807", "9223372036854775808", "184467440737095516160", "2"]:
        response = client.get(f"/api/v1/leaderboard/?{query}page={page}")

        assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."}), (query, page)


def test_an_api_page_is_never_larger_than_its_cap(client, staff):
    from portfolios.models import Follow
    from tests.builders import address
    from whales.models import TrackedWallet

    for n in range(3):
        Follow.objects.create(user=staff, wallet=TrackedWallet.objects.create(address=address(f"followed {n}")))
    client.force_login(staff)

    body = client.get("/api/v1/follows/?limit=9223372036854775808").json()

    assert body["count"] == 3 and len(body["results"]) == 3
