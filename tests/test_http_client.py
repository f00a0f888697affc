"""providers.http against a real HTTP server on 127.0.0.1 and the machine's Redis.

The server is `tests.support.http.ScriptedServer`: it answers each request from a script of
`Reply`s or from a responder function, and records every request it receives.
"""

from __future__ import annotations

import pickle
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import redis

from providers.http import (
    CreditMeter,
    JsonHttpClient,
    LocalRateLimiter,
    ProviderError,
    RedisRateLimiter,
    parse_retry_after,
)
from tests.support.http import Reply, ScriptedServer, Sleeps, closed_port
from tests.support.redis import REDIS_URL, dead_redis


def make_client(server: ScriptedServer, **options: Any) -> tuple[JsonHttpClient, Sleeps]:
    sleeps = Sleeps()
    settings: dict[str, Any] = {
        "provider": "testapi",
        "params": {"api-key": "sekrit-key-123"},
        "headers": {"X-Chain": "solana"},
        "timeout": 2.0,
        "sleep": sleeps,
        "rng": lambda: 0.5,
        "redact": ["sekrit-key-123"],
    }
    settings.update(options)
    return JsonHttpClient(server.url, **settings), sleeps


# -- JsonHttpClient ---------------------------------------------------------------------------


def test_it_returns_the_json_and_sends_default_params_and_headers(server: ScriptedServer) -> None:
    server.script(Reply(200, {"success": True, "data": {"value": 1.5}}))
    client, sleeps = make_client(server)

    body = client.get("/defi/price", params={"address": "So111"})

    assert body == {"success": True, "data": {"value": 1.5}}
    (request,) = server.requests
    assert request.path == "/defi/price"
    assert request.param("api-key") == "sekrit-key-123"
    assert request.param("address") == "So111"
    assert request.headers["x-chain"] == "solana"
    assert sleeps == []


def test_it_honours_retry_after_seconds_on_429(server: ScriptedServer) -> None:
    server.script(Reply(429, {"error": "Rate limit exceeded"}, {"Retry-After": "7"}), Reply(200, [1]))
    client, sleeps = make_client(server)

    assert client.get("/x") == [1]
    assert sleeps == [7.0]
    assert len(server.requests) == 2


def test_it_caps_a_retry_after_http_date(server: ScriptedServer) -> None:
    in_an_hour = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    server.script(Reply(503, None, {"Retry-After": in_an_hour}), Reply(200, {"ok": 1}))
    client, sleeps = make_client(server, retry_after_cap=30.0)

    assert client.get("/x") == {"ok": 1}
    assert sleeps == [30.0]


def test_it_retries_5xx_with_full_jitter_backoff_then_succeeds(server: ScriptedServer) -> None:
    server.script(Reply(500, {"error": "boom"}), Reply(502, b"<html>bad gateway</html>"), Reply(200, []))
    client, sleeps = make_client(server, backoff_base=1.0, backoff_cap=30.0, rng=lambda: 0.5)

    assert client.get("/x") == []
    # rng 0.5 × min(cap, base·2^(n-1)): 0.5 × 1, 0.5 × 2
    assert sleeps == [0.5, 1.0]
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_it_does_not_retry_other_4xx(server: ScriptedServer, status: int) -> None:
    server.script(Reply(status, {"error": "nope"}), Reply(200, []))
    client, sleeps = make_client(server)

    with pytest.raises(ProviderError) as caught:
        client.get("/x")

    assert len(server.requests) == 1
    assert sleeps == []
    error = caught.value
    assert (error.provider, error.status, error.transient) == ("testapi", status, False)
    assert str(error) == f'testapi: GET /x failed (permanent): HTTP {status}: {{"error": "nope"}}'


def test_it_gives_up_after_max_attempts_with_a_transient_error(server: ScriptedServer) -> None:
    server.script(*[Reply(429, None, {"Retry-After": "2"})] * 4)
    client, sleeps = make_client(server, max_attempts=4)

    with pytest.raises(ProviderError) as caught:
        client.get("/x")

    assert len(server.requests) == 4
    assert sleeps == [2.0, 2.0, 2.0]
    assert (caught.value.status, caught.value.transient, caught.value.retry_after) == (429, True, 2.0)


def test_it_retries_timeouts_then_raises_a_transient_error(server: ScriptedServer) -> None:
    server.script(*[Reply(200, [], delay=0.6)] * 3)
    client, sleeps = make_client(server, timeout=0.1, max_attempts=3)

    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        client.get("/slow")

    assert time.monotonic() - started < 1.5
    assert len(server.requests) == 3
    assert len(sleeps) == 2
    assert (caught.value.status, caught.value.transient) == (None, True)
    assert "ReadTimeout" in str(caught.value)


def test_it_recovers_when_a_timed_out_call_succeeds_on_retry(server: ScriptedServer) -> None:
    server.script(Reply(200, ["late"], delay=0.6), Reply(200, ["on time"]))
    client, _ = make_client(server, timeout=0.1)

    assert client.get("/x") == ["on time"]


def test_it_retries_malformed_json(server: ScriptedServer) -> None:
    server.script(Reply(200, b'[{"signature": "abc", "fee": 50'), Reply(200, [{"signature": "abc"}]))
    client, sleeps = make_client(server)

    assert client.get("/x") == [{"signature": "abc"}]
    assert len(sleeps) == 1


def test_malformed_json_every_time_ends_in_a_transient_error(server: ScriptedServer) -> None:
    server.script(*[Reply(200, b"<html>gateway hiccup</html>")] * 2)
    client, _ = make_client(server, max_attempts=2)

    with pytest.raises(ProviderError) as caught:
        client.get("/x")

    assert caught.value.transient is True
    assert "malformed JSON" in str(caught.value)


def test_it_retries_a_body_cut_off_mid_transfer(server: ScriptedServer) -> None:
    server.script(Reply(200, [{"signature": "a" * 40}] * 20, truncate=True), Reply(200, ["whole"]))
    client, sleeps = make_client(server)

    assert client.get("/x") == ["whole"]
    assert len(sleeps) == 1


def test_it_retries_a_refused_connection_and_reports_it(server: ScriptedServer) -> None:
    sleeps = Sleeps()
    client = JsonHttpClient(f"http://127.0.0.1:{closed_port()}", provider="testapi", max_attempts=3, sleep=sleeps)

    with pytest.raises(ProviderError) as caught:
        client.get("/x")

    assert len(sleeps) == 2
    assert (caught.value.status, caught.value.transient) == (None, True)
    assert "connection failed" in str(caught.value)


def test_a_post_is_not_repeated_after_a_5xx_because_the_server_may_have_acted(
    server: ScriptedServer,
) -> None:
    server.script(Reply(500, {"error": "boom"}), Reply(200, {"id": 2}))
    client, sleeps = make_client(server)

    with pytest.raises(ProviderError) as caught:
        client.request("POST", "/webhooks", json_body={"a": 1})

    assert len(server.requests) == 1
    assert caught.value.transient is True  # the caller may decide to try again later


def test_a_post_is_repeated_after_429_and_when_marked_idempotent(server: ScriptedServer) -> None:
    server.script(Reply(429), Reply(200, {"id": 1}), Reply(503), Reply(200, [1, 2]))
    client, _ = make_client(server)

    assert client.request("POST", "/webhooks", json_body={"a": 1}) == {"id": 1}
    assert client.request("POST", "/parse", json_body={"b": 2}, idempotent=True) == [1, 2]
    assert [r.body for r in server.requests] == [{"a": 1}, {"a": 1}, {"b": 2}, {"b": 2}]


def test_an_empty_body_is_none_only_when_allowed(server: ScriptedServer) -> None:
    server.script(Reply(200, None), Reply(204, None))
    client, _ = make_client(server, max_attempts=1)

    assert client.request("DELETE", "/webhooks/1", allow_empty=True) is None
    with pytest.raises(ProviderError, match="empty body"):
        client.get("/x")


def test_error_messages_never_show_the_api_key(server: ScriptedServer) -> None:
    server.script(Reply(401, {"error": "invalid api key sekrit-key-123"}))
    client, _ = make_client(server)

    with pytest.raises(ProviderError) as caught:
        client.get("/x")

    assert "sekrit-key-123" not in str(caught.value)
    assert "invalid api key ***" in str(caught.value)


def test_a_provider_error_survives_pickling_with_its_attributes() -> None:
    error = ProviderError("testapi: GET /x failed", provider="testapi", status=429, transient=True, retry_after=3.0)

    copy = pickle.loads(pickle.dumps(error))

    assert (type(copy), str(copy), copy.provider, copy.status, copy.transient, copy.retry_after) == (
        ProviderError,
        "testapi: GET /x failed",
        "testapi",
        429,
        True,
        3.0,
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        (None, None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_reads_an_http_date_relative_to_now() -> None:
    now = datetime(2026, 11, 5, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)

    assert parse_retry_after(header, now=now.timestamp()) == 90.0


# -- RedisRateLimiter -------------------------------------------------------------------------


def test_two_limiters_sharing_a_key_space_calls_across_processes(redis_client: redis.Redis, key_prefix: str) -> None:
    # Two instances stand for two worker processes; the budget is shared through Redis.
    worker_a = RedisRateLimiter(redis_client, f"{key_prefix}:rl", 20)
    worker_b = RedisRateLimiter(redis.Redis.from_url(REDIS_URL), f"{key_prefix}:rl", 20)
    stamps: list[float] = []

    started = time.monotonic()
    for i in range(10):
        (worker_a if i % 2 == 0 else worker_b).acquire()
        stamps.append(time.monotonic() - started)

    assert 0.43 <= stamps[-1] < 1.0  # 9 gaps of 50 ms
    assert all(later - earlier > 0.03 for earlier, later in zip(stamps, stamps[1:], strict=False))


def test_a_rate_of_zero_disables_the_limiter(redis_client: redis.Redis, key_prefix: str) -> None:
    sleeps = Sleeps()
    limiter = RedisRateLimiter(redis_client, f"{key_prefix}:rl", 0, sleep=sleeps)

    for _ in range(50):
        limiter.acquire()

    assert sleeps == []
    assert redis_client.exists(f"{key_prefix}:rl") == 0


def test_the_limiter_keeps_spacing_calls_in_process_when_redis_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleeps = Sleeps()
    limiter = RedisRateLimiter(dead_redis(), "aura:ratelimit:nowhere", 2, sleep=sleeps)

    for _ in range(3):
        limiter.acquire()

    assert len(sleeps) == 2 and 0.4 < sleeps[0] <= 0.5 and 0.9 < sleeps[1] <= 1.0
    # one failed Redis call, then the cooldown skips Redis (and the repeated warning)
    assert len([r for r in caplog.records if "Redis unavailable" in r.message]) == 1


def test_the_local_limiter_books_consecutive_slots() -> None:
    sleeps = Sleeps()
    now = [100.0]
    limiter = LocalRateLimiter(4, sleep=sleeps, clock=lambda: now[0])

    for _ in range(3):
        limiter.acquire()

    assert sleeps == [0.25, 0.5]


# -- CreditMeter ------------------------------------------------------------------------------


def test_the_meter_counts_credits_in_total_and_per_utc_day(redis_client: redis.Redis, key_prefix: str) -> None:
    day = [date(2026, 11, 4)]
    meter = CreditMeter(redis_client, key_prefix, today=lambda: day[0])

    meter.add("helius", 100)
    meter.add("helius", 100)
    day[0] = date(2026, 11, 5)
    meter.add("helius", 100)
    meter.add("birdeye", 5)

    assert meter.spent("helius") == 300
    assert meter.spent("helius", date(2026, 11, 4)) == 200
    assert meter.spent("helius", "2026-11-05") == 100
    assert meter.spent("birdeye") == 5
    assert meter.spent("dexscreener") == 0
    assert 0 < redis_client.ttl(f"{key_prefix}:helius:day:2026-11-05") <= 400 * 86_400


def test_the_meter_never_breaks_the_call_when_redis_is_down(caplog: pytest.LogCaptureFixture) -> None:
    meter = CreditMeter(dead_redis(), "aura:credits")

    meter.add("helius", 100)
    meter.add("helius", 100)

    first, second = (r.message for r in caplog.records)
    assert first.startswith("credit meter: could not record 100 helius credits: ")
    assert second == "credit meter: Redis down, 100 helius credits not recorded"
