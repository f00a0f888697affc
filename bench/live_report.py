"""bench/live's report: each measurement's figures and the summary against the targets.

Imported by bench/live.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

from django.db import connection

from bench.live_breakdown import ConnectionCosts, DaphneAlone, IngestProfile
from bench.live_browser import BrowserResult
from bench.live_fanout import Delivery, FanoutResult

DOM_P95_TARGET_MS = 50.0
FANOUT_P95_TARGET_MS = 250.0


def print_browser(result: BrowserResult, cpu_use: str) -> None:
    print(f"1. Webhook POST → DOM update in Chromium ({result.chromium}), {result.swaps} swaps one at a time")
    offsets = ", ".join(f"{o:+.2f} ± {b:.2f} ms" for o, b in result.clock_offsets)
    print(f"    browser clock − time.time(): {offsets} (before, after); browser times shifted by their mean")
    print(f"    POST → row in #swap-feed (DOM)    {result.post_to_dom.line()}")
    print(f"    POST → next animation frame      {result.post_to_frame.line()}")
    print("    split:")
    print(f"      POST → ingested_at             {result.post_to_ingested.line()}")
    print(f"      ingested_at → pushed_at        {result.ingested_to_pushed.line()}")
    print(f"      POST → HTTP response           {result.post_to_response.line()}")
    print(f"      POST → WS message in the page  {result.post_to_received.line()}")
    print(f"      pushed_at → WS message         {result.pushed_to_received.line()}  (negative: before pushed_at)")
    print(f"      WS message → row in DOM        {result.received_to_dom.line()}  (htmx oob swap + aura.js)")
    print(f"    every message the page handled   {result.message_handling.line()}  (rows, figures, signals)")
    verdict = "within" if result.post_to_dom.p95 < DOM_P95_TARGET_MS else "NOT within"
    print(f"    → p95 {result.post_to_dom.p95:.1f} ms: {verdict} the {DOM_P95_TARGET_MS:.0f} ms target")
    if result.missing:
        print(f"    {result.missing} swaps never appeared in the page")
    if result.reconnects:
        print(f"    the page's socket opened/closed {result.reconnects} times during the run")
    print(f"    ({result.seconds:.1f} s for the measured swaps; during this section: {cpu_use})")
    print()


def print_delivery(name: str, result: Delivery, call_name: str) -> None:
    shortfall = result.expected - result.delivered
    print(
        f"    {name}: delivered {result.delivered:,} of {result.expected:,}"
        + (f" (SHORT by {shortfall:,})" if shortfall else "")
    )
    print(f"      every delivery      {result.latency.line()}")
    print(f"      slowest per push    {result.slowest_client.line()}")
    print(f"      {call_name:19} {result.call.line()}")
    print(
        f"      CPU per push: Daphne {result.daphne_cpu_ms:.0f} ms, the client process {result.clients_cpu_ms:.0f} ms,"
        f" in a push cycle of {result.wall_ms:.0f} ms wall time"
    )


def print_fanout(result: FanoutResult, label: str, cpu_use: str) -> None:
    clients = f"{result.clients:,} WebSocket client" + ("" if result.clients == 1 else "s")
    print(f"{label} Fan-out to {clients} (group wallet.<run address>)")
    print(
        f"    connected {result.connected:,} of {result.clients:,} in {result.connect_s:.2f} s;"
        f" per connection (TCP + handshake + auth + group_add) {result.connect.line()}"
    )
    for reason, count in result.failures.items():
        print(f"      refused/failed ×{count}: {reason}")
    if result.dropped:
        print(f"      closed by the server during the run (close code: clients): {result.dropped}")
    print_delivery("send_html → client", result.synthetic, "send_html call")
    print_delivery("webhook POST → client (the row via wallet group)", result.webhook, "HTTP response")
    print(f"    (during this section: {cpu_use})")
    print()


def print_daphne_alone(result: DaphneAlone) -> None:
    print("3a. Daphne alone (one keep-alive connection)")
    print(f"    POST /hooks/helius/, wrong secret  {result.refused.line()}  (no database, no Redis)")
    print(f"    GET /healthz                      {result.healthz.line()}  (PostgreSQL query + a new Redis client)")
    print(f"    POST /hooks/helius/ with []       {result.empty_delivery.line()}  (a PostgreSQL connection, no query)")
    print()


def print_connection_costs(result: ConnectionCosts) -> None:
    pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
    kept = "a pool is configured" if pool else "no pool is configured"
    print(
        "3b. New connections: Django under ASGI runs each request's sync code in a thread of its own, so without"
        f" a pool every request opens and closes a PostgreSQL connection, whatever CONN_MAX_AGE says ({kept})"
    )
    print(f"    PostgreSQL connect + SELECT 1 + close   {result.postgres.line()}")
    print(f"    Redis connect + PING + close            {result.redis.line()}  (redis-py, as /healthz does)")
    print()


def print_profile(result: IngestProfile) -> None:
    print(f"3c. ingest of one webhook swap, in-process beside an event loop ({result.ingests} ingests)")
    for label, timings in result.stages.items():
        calls = result.calls_per_ingest.get(label, 0)
        print(f"    {label:50} {timings.line()}  {calls:.1f} calls")


def print_summary(browser: BrowserResult | None, fanouts: list[FanoutResult]) -> None:
    rows: list[tuple[str, str, str]] = []
    if browser is not None:
        rows += [
            ("webhook POST → DOM, p95", f"{browser.post_to_dom.p95:.1f} ms", f"< {DOM_P95_TARGET_MS:.0f} ms"),
            ("webhook POST → DOM, p50", f"{browser.post_to_dom.p50:.1f} ms", "-"),
            ("webhook POST → DOM, max", f"{browser.post_to_dom.max:.1f} ms", "-"),
        ]
    for fanout in fanouts:
        n = f"{fanout.clients:,} client" + ("s" if fanout.clients != 1 else "")
        target = f"< {FANOUT_P95_TARGET_MS:.0f} ms" if fanout.clients >= 1000 else "-"
        rows += [
            (f"{n}: send_html → client, p95", f"{fanout.synthetic.latency.p95:.1f} ms", target),
            (
                f"{n}: send_html → client, p50 / max",
                f"{fanout.synthetic.latency.p50:.1f} / {fanout.synthetic.latency.max:.1f} ms",
                "-",
            ),
            (f"{n}: webhook POST → client, p95", f"{fanout.webhook.latency.p95:.1f} ms", "-"),
            (
                f"{n}: delivered / expected",
                f"{fanout.synthetic.delivered + fanout.webhook.delivered:,} / "
                f"{fanout.synthetic.expected + fanout.webhook.expected:,}",
                "all",
            ),
            (f"{n}: connect all", f"{fanout.connect_s:.2f} s", "-"),
            (f"{n}: Daphne CPU per send_html push", f"{fanout.synthetic.daphne_cpu_ms:.0f} ms", "-"),
        ]
    width = max(len(name) for name, _, _ in rows)
    print("Summary")
    print(f"  {'figure':{width}}  {'measured':>22}  target")
    for name, measured, target in rows:
        print(f"  {name:{width}}  {measured:>22}  {target}")
