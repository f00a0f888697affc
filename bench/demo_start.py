"""What a new trader sees in the first minutes of `make run`: prints figures, asserts nothing.

Clones this repository's HEAD into a temporary folder (a fresh clone: no `.data/`, so an empty
database, a new demo login, 200 wallets to backfill), links the checkout's `.venv` into it, runs
`make run` there on ports of its own, and watches the dashboard in Debian's Chromium at 1440×900:

* seconds from `make run` to `/healthz` answering 200, and to the dashboard loaded after login;
* at load: leaderboard rows listed, and the table's empty-state text if any;
* seconds to the first live swap row pushed into the open page (a webhook delivery the market
  simulator made after start, reaching the browser over the WebSocket), and how many by the end;
* every few seconds: leaderboard cells reading "$0.00" in the columns a price feeds (total,
  unrealized, ROI) for a wallet that has something waiting for a price (its row's "pricing N"
  marker) — the demo's promise is "pricing…" there, never $0.00 — and cells reading "pricing…";
  feed rows showing a token by its mint (no name yet).

    .venv/bin/python bench/demo_start.py [--port 8100] [--sim-port 8865] [--seconds 180] [--keep]

Then `make run` is stopped with SIGINT to its process group (as Ctrl-C does); the script waits for
every process to end and says if one had to be killed. `--keep` leaves the clone (and its `.data/`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WATCH = """() => {
  const board = document.getElementById('leaderboard');
  const rows = board ? [...board.querySelectorAll('tr.lb-row')] : [];
  const zeroWhilePricing = rows.filter(row => /pricing \\d/.test(row.textContent)).flatMap(row =>
    ['total', 'unrealized', 'roi'].map(col => row.querySelector(`[data-col=${col}]`))
      .filter(cell => cell && /^[+-]?\\$0\\.00$/.test(cell.textContent.trim())));
  const empty = board && board.querySelector('.empty');
  return {
    rows: rows.length,
    empty: empty ? empty.textContent.trim().slice(0, 80) : '',
    zeroWhilePricing: zeroWhilePricing.length,
    pricingCells: board ? board.querySelectorAll('td .pending').length : 0,
    feedRows: document.querySelectorAll('#swap-feed [data-swap-id]').length,
    mintSymbols: [...document.querySelectorAll('#swap-feed .symbol')].filter(a => a.textContent.includes('…')).length,
    pushed: window.__pushed.length,
    firstPushAt: window.__pushed.length ? window.__pushed[0] : null,
  };
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--sim-port", type=int, default=8865)
    parser.add_argument("--seconds", type=float, default=180, help="how long to watch after start")
    parser.add_argument("--keep", action="store_true", help="keep the clone and its data")
    options = parser.parse_args()

    clone = Path(tempfile.mkdtemp(prefix="aura-demo-start-"))
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    os.symlink((REPO / ".venv").resolve(), clone / ".venv")
    url = f"http://127.0.0.1:{options.port}"
    log_path = clone / "make-run.log"
    print(f"clone     {clone} (HEAD {git_head()}); make run's output in {log_path}")

    started = time.monotonic()
    run = subprocess.Popen(
        ["make", "run", f"PORT={options.port}", f"SIM_PORT={options.sim_port}"],
        cwd=clone,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    login: list[str] = []
    threading.Thread(target=copy_output, args=(run, log_path, started, login), daemon=True).start()

    def elapsed() -> float:
        return time.monotonic() - started

    figures: dict[str, object] = {}
    try:
        while not healthy(url):
            if elapsed() > options.seconds or run.poll() is not None:
                raise SystemExit("make run did not answer /healthz")
            time.sleep(0.25)
        figures["healthz 200"] = f"{elapsed():.1f} s"
        while not login:
            time.sleep(0.1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.add_init_script(
                "window.__pushed = []; document.addEventListener('htmx:oobAfterSwap', e => {"
                " if (e.detail.newRows && e.detail.newRows.length) window.__pushed.push(performance.timeOrigin"
                " + performance.now()); });"
            )
            page.goto(f"{url}/accounts/login/")
            page.fill("#id_username", login[0])
            page.fill("#id_password", login[1])
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/")
            figures["dashboard loaded"] = f"{elapsed():.1f} s"
            at_load = page.evaluate(WATCH)
            figures["leaderboard rows at load"] = at_load["rows"]
            figures["empty state at load"] = at_load["empty"] or "(none)"
            worst = {"zeroWhilePricing": 0, "pricingCells": 0, "mintSymbols": 0}
            start_wall = time.time() - elapsed()
            while elapsed() < options.seconds:
                seen = page.evaluate(WATCH)
                for key in worst:
                    worst[key] = max(worst[key], seen[key])
                if seen["empty"] and seen["rows"] == 0:
                    figures.setdefault("empty state later", f"{elapsed():.1f} s: {seen['empty']}")
                if seen["firstPushAt"] and "first live swap in the page" not in figures:
                    figures["first live swap in the page"] = f"{seen['firstPushAt'] / 1000 - start_wall:.1f} s"
                time.sleep(2)
            final = page.evaluate(WATCH)
            figures["live swaps pushed while watching"] = final["pushed"]
            figures["leaderboard rows at the end"] = final["rows"]
            figures["most cells reading $0.00 beside a pricing marker"] = worst["zeroWhilePricing"]
            figures["most cells reading pricing…"] = worst["pricingCells"]
            figures["most feed rows showing a mint for a name"] = worst["mintSymbols"]
            figures["feed rows showing a mint at the end"] = final["mintSymbols"]
            figures.setdefault("first live swap in the page", "none")
            browser.close()
    finally:
        os.killpg(run.pid, signal.SIGINT)
        try:
            run.wait(60)
            figures["make run stopped"] = "cleanly on SIGINT"
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            figures["make run stopped"] = "KILLED after 60 s"
        left = leftovers(clone)
        figures["processes left running"] = ", ".join(left) or "none"
        if not options.keep:
            shutil.rmtree(clone, ignore_errors=True)

    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")


def copy_output(run: subprocess.Popen, log_path: Path, started: float, login: list[str]) -> None:
    with log_path.open("w") as log:
        for line in run.stdout:
            log.write(f"{time.monotonic() - started:7.1f} {line}")
            log.flush()
            found = re.search(r"Demo login: (\S+) / (\S+)", line)
            if found:
                login[:] = [found[1], found[2]]


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def leftovers(clone: Path) -> list[str]:
    """Processes still running from the clone (their command line names its folder)."""
    found = subprocess.run(["pgrep", "-af", str(clone)], capture_output=True, text=True).stdout.splitlines()
    return [line for line in found if "pgrep" not in line]


def git_head() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return head.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
