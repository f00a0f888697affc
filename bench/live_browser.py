"""bench/live's first measurement: webhook POST → DOM update in a real Chromium.

Imported by bench/live.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bench.live_servers import DaphneServer, Webhook
from bench.live_stats import Distribution, epoch_ms
from bench.live_world import PASSWORD, USERNAME, WARMUP_PUSHES, BenchWorld
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, log_in
from whales.models import Swap

# Installed in the dashboard: when rows of our whales enter #swap-feed, when the WebSocket message
# carrying them arrived, and the next animation frame after the insert. Same clock for all three.
# Also how long the page spent on each message it got (rows, leaderboard rows, signals, ticks): a
# swap's message waits in the browser while the one before it is handled.
PAGE_PROBE = """
(wallets) => {
  const ours = new Set(wallets);
  const clock = () => performance.timeOrigin + performance.now();
  const probe = window.__liveBench = {inDom: {}, frame: {}, received: {}, handling: [], opens: 0, closes: 0};
  let messageAt = null;
  document.addEventListener("htmx:wsAfterMessage", () => {
    if (messageAt !== null) probe.handling.push(clock() - messageAt);
    messageAt = null;
  });
  document.addEventListener("htmx:wsBeforeMessage", (event) => {
    const at = clock();
    messageAt = at;
    for (const match of String(event.detail.message).matchAll(/data-swap-id="(\\d+)"/g)) {
      if (!(match[1] in probe.received)) probe.received[match[1]] = at;
    }
  });
  document.addEventListener("htmx:wsOpen", () => { probe.opens += 1; });
  document.addEventListener("htmx:wsClose", () => { probe.closes += 1; });
  new MutationObserver((records) => {
    const at = clock();
    const fresh = [];
    for (const record of records) {
      for (const node of record.addedNodes) {
        const id = node.nodeType === 1 ? node.dataset.swapId : undefined;
        if (id && ours.has(node.dataset.wallet) && !(id in probe.inDom)) { probe.inDom[id] = at; fresh.push(id); }
      }
    }
    if (fresh.length) {
      requestAnimationFrame(() => { const at = clock(); fresh.forEach((id) => { probe.frame[id] = at; }); });
    }
  }).observe(document.getElementById("swap-feed"), {childList: true});
}
"""


def page_clock_offset_ms(page: Any) -> tuple[float, float]:
    """(browser clock − Python's time.time(), ± bound) in ms, from the fastest of 25 round trips."""
    best: tuple[float, float] | None = None
    for _ in range(25):
        before = time.time() * 1000
        browser = page.evaluate("() => performance.timeOrigin + performance.now()")
        after = time.time() * 1000
        if best is None or after - before < best[1] * 2:
            best = (browser - (before + after) / 2, (after - before) / 2)
    assert best is not None
    return best


@dataclass
class BrowserResult:
    chromium: str
    swaps: int
    missing: int
    post_to_dom: Distribution
    post_to_frame: Distribution
    post_to_response: Distribution
    post_to_ingested: Distribution
    ingested_to_pushed: Distribution
    post_to_received: Distribution
    received_to_dom: Distribution
    message_handling: Distribution
    pushed_to_received: Distribution
    clock_offsets: list[tuple[float, float]]
    reconnects: int
    seconds: float


def measure_browser(
    server: DaphneServer, webhook: Webhook, world: BenchWorld, swaps: int, gap_s: float
) -> BrowserResult:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()
            context.set_default_timeout(15_000)
            page = context.new_page()
            log_in(page, server, USERNAME, PASSWORD)  # type: ignore[arg-type]  (duck-typed: .url)
            expect(page.locator("#connection")).to_have_text("live")
            wallets = world.dashboard_addresses
            for n in range(WARMUP_PUSHES):
                webhook.post_swap(world.maker.swap(wallets[n % len(wallets)], int(time.time())))
            page.reload()  # now the leaderboard holds our whales' rows, which the pushes replace
            expect(page.locator("#connection")).to_have_text("live")
            page.evaluate(PAGE_PROBE, wallets)
            offsets = [page_clock_offset_ms(page)]
            timeline: list[tuple[int, float, float]] = []  # (swap id, POST start, response end)
            started = time.perf_counter()
            missing = 0
            for n in range(swaps):
                posted_ms, answered_ms, swap_id = webhook.post_swap(
                    world.maker.swap(wallets[n % len(wallets)], int(time.time()))
                )
                timeline.append((swap_id, posted_ms, answered_ms))
                try:
                    page.wait_for_function(
                        "id => id in window.__liveBench.inDom", arg=str(swap_id), polling="raf", timeout=10_000
                    )
                except Exception as error:  # noqa: BLE001 - a row that never came is a figure, not a crash
                    missing += 1
                    print(f"    swap {swap_id}: no row in the page after 10 s ({type(error).__name__})")
                time.sleep(gap_s)
            seconds = time.perf_counter() - started
            offsets.append(page_clock_offset_ms(page))
            probe = page.evaluate("() => window.__liveBench")
            version = browser.version
        finally:
            browser.close()

    offset = sum(o for o, _ in offsets) / len(offsets)
    stored = {
        swap_id: (epoch_ms(ingested), epoch_ms(pushed))
        for swap_id, ingested, pushed in Swap.objects.filter(id__in=[t[0] for t in timeline]).values_list(
            "id", "ingested_at", "pushed_at"
        )
    }
    result = BrowserResult(
        chromium=version,
        swaps=swaps,
        missing=missing,
        post_to_dom=Distribution(),
        post_to_frame=Distribution(),
        post_to_response=Distribution(),
        post_to_ingested=Distribution(),
        ingested_to_pushed=Distribution(),
        post_to_received=Distribution(),
        received_to_dom=Distribution(),
        message_handling=Distribution(samples=list(probe["handling"])),
        pushed_to_received=Distribution(),
        clock_offsets=offsets,
        reconnects=probe["opens"] + probe["closes"],
        seconds=seconds,
    )
    for swap_id, posted_ms, answered_ms in timeline:
        key = str(swap_id)
        result.post_to_response.samples.append(answered_ms - posted_ms)
        ingested_ms, pushed_ms = stored[swap_id]
        result.post_to_ingested.samples.append(ingested_ms - posted_ms)
        result.ingested_to_pushed.samples.append(pushed_ms - ingested_ms)
        if key in probe["inDom"]:
            result.post_to_dom.samples.append(probe["inDom"][key] - offset - posted_ms)
        if key in probe["frame"]:
            result.post_to_frame.samples.append(probe["frame"][key] - offset - posted_ms)
        if key in probe["received"]:
            received_ms = probe["received"][key] - offset
            result.post_to_received.samples.append(received_ms - posted_ms)
            result.pushed_to_received.samples.append(received_ms - pushed_ms)
            if key in probe["inDom"]:
                result.received_to_dom.samples.append(probe["inDom"][key] - probe["received"][key])
    return result
