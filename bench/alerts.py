"""Alert delivery benchmark: swap webhook → Telegram `sendMessage` received; prints figures, asserts nothing.

    make bench-alerts            (or: .venv/bin/python -m aura.embedded run -- .venv/bin/python bench/alerts.py)

Flags: --users 100 --whales 10 --follows 2 (whales each user follows; one rule each: swaps of followed
wallets ≥ $1,000 → their own Telegram chat) --swaps 20 --gap-ms 500 (pause between webhook POSTs)
--alerts-concurrency 2 (the alerts worker's processes, as the Procfiles run it) --keep.

What runs, as `make run` runs it: one Daphne (the webhook), a Celery worker on the main queue (bookings)
and one on the alerts queue (`<queue>.alerts`, prefork), all started here against a database of this
run's own (`aura_bench_alerts`, dropped at the end). Telegram is `simulator.server.messaging` in this process
(its own thread): it checks every message's HTML as Telegram does and stamps its arrival with
`time.time()`. Each swap is a fresh `tests.builders.usdc_swap` of a whale, in a token of its own, so
that the message names the swap (the token's mint is in its links); it reaches every user following
the whale: with the defaults 20 swaps × 20 followers = 400 alerts, each user getting 4 (below a
channel's burst limit of 5 a minute, so no digest stands in for them).

Figures: per alert, webhook POST start → the stand-in Telegram received the sendMessage (p50, p95,
max); the server-side split from the deliveries' rows (ingested → queued → sent → answered); messages
lost (expected and never received within 60 s) and duplicates; and /healthz p50/p95 of the same
Daphne measured in the same run, with the alert p95 as a ratio to it (the target is p95 < 250 ms here).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "aura_bench_alerts"
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))
from bench import database  # noqa: E402

SOURCE_DATABASE_URL = database.use_bench_database(BENCH_DATABASE)
os.environ["CELERY_QUEUE"] = f"aura-bench-alerts-{os.getpid()}"
os.environ["CHANNELS_PREFIX"] = f"aura-bench-alerts-{os.getpid()}"
TELEGRAM_TOKEN = "100200300:aura-bench-bot"
os.environ["TELEGRAM_BOT_TOKEN"] = TELEGRAM_TOKEN

import django  # noqa: E402

django.setup()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connections  # noqa: E402

from alerts import actions  # noqa: E402
from alerts.models import Channel, Delivery, Rule  # noqa: E402
from portfolios.models import Follow  # noqa: E402
from simulator.server.messaging import MessagingServer  # noqa: E402
from tests.builders import address, usdc_swap  # noqa: E402
from whales.models import TrackedWallet  # noqa: E402

FIRST_CHAT = 5_000_000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, -(-int(fraction * 1000) * len(ordered) // 1000) - 1))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(users: int, whales: int, follows: int) -> tuple[list[TrackedWallet], dict[int, set[int]]]:
    """Whales, users each following `follows` of them with one rule to their own Telegram chat; returns
    the whales and, by whale id, the chat ids that should hear of its swaps."""
    wallets = [
        TrackedWallet.objects.create(address=address(f"bench alerts whale {n}"), label=f"Bench whale {n}")
        for n in range(whales)
    ]
    listeners: dict[int, set[int]] = {wallet.id: set() for wallet in wallets}
    model = get_user_model()
    for n in range(users):
        user = model.objects.create_user(f"bench-alerts-{n}", password=secrets.token_urlsafe(12))
        channel, _ = actions.add_channel(user, Channel.Kind.TELEGRAM, "Phone")
        chat = FIRST_CHAT + n
        actions.link_telegram(channel.telegram_links.get().code, chat)
        rule = Rule.objects.create(user=user, name="followed whales", wallets=Rule.Wallets.FOLLOWED, min_usd=1000)
        rule.channels.add(channel)
        for k in range(follows):
            wallet = wallets[(n + k * 3) % whales]
            Follow.objects.get_or_create(user=user, wallet=wallet)
            listeners[wallet.id].add(chat)
    return wallets, listeners


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=REPO_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_healthz(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("Daphne exited before serving")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("Daphne did not answer /healthz within 120 s")


def wait_for_workers(env: dict[str, str], queues: list[str]) -> None:
    """Until a worker answers on each queue (Celery's ping; the first task would otherwise wait)."""
    from aura.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= len(queues):
            return
    raise SystemExit("the Celery workers did not start within 60 s")


def healthz(client: httpx.Client, count: int) -> list[float]:
    took = []
    for _ in range(count):
        started = time.perf_counter()
        client.get("/healthz")
        took.append((time.perf_counter() - started) * 1000)
    return took


def ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 0.5):7.1f} ms  p95 {percentile(values, 0.95):7.1f} ms  max {max(values):7.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--whales", type=int, default=10)
    parser.add_argument("--follows", type=int, default=2)
    parser.add_argument("--swaps", type=int, default=20)
    parser.add_argument("--gap-ms", type=float, default=500.0)
    parser.add_argument("--alerts-concurrency", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    queue = os.environ["CELERY_QUEUE"]
    secret = secrets.token_urlsafe(24)
    log = Path(tempfile.mkstemp(prefix="aura-bench-alerts-", suffix=".log")[1])
    processes: list[subprocess.Popen] = []
    failed = True
    with MessagingServer() as telegram:
        try:
            migrate_s = database.create_bench_database(SOURCE_DATABASE_URL, BENCH_DATABASE)
            wallets, listeners = seed(args.users, args.whales, args.follows)
            connections.close_all()
            env = {
                **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
                "DATABASE_URL": os.environ["DATABASE_URL"],
                "REDIS_URL": settings.REDIS_URL,
                "HELIUS_WEBHOOK_SECRET": secret,
                "TELEGRAM_API_URL": telegram.url,
                "DATABASE_POOL_SIZE": "10",
                "DEBUG": "true",
            }
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            celery = [sys.executable, "-m", "celery", "-A", "aura", "worker", "--loglevel=warning"]
            processes.append(start([*celery, "-n", f"main-{port}@%h", "-Q", queue, "--concurrency=1"], env, log))
            processes.append(
                start(
                    [
                        *celery,
                        "-n",
                        f"alerts-{port}@%h",
                        "-Q",
                        f"{queue}.alerts",
                        f"--concurrency={args.alerts_concurrency}",
                    ],
                    env,
                    log,
                )
            )
            daphne = start(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "aura.asgi:application"], env, log
            )
            processes.append(daphne)
            wait_for_healthz(url, daphne)
            wait_for_workers(env, [queue, f"{queue}.alerts"])
            expected_alerts = sum(len(listeners[wallets[n % len(wallets)].id]) for n in range(args.swaps))
            print(
                f"machine   {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
                f"python {platform.python_version()}, Django {django.get_version()}"
            )
            print(
                f"world     {args.users} users, {args.whales} whales, {args.follows} follows each, one rule each "
                f"→ own Telegram chat; {args.swaps} swaps → {expected_alerts} alerts; migrate {migrate_s:.1f} s"
            )
            print(
                f"stack     Daphne {url}, worker (main queue, 1), worker (alerts queue, {args.alerts_concurrency}), "
                f"Telegram stand-in {telegram.url}; log {log}"
            )

            client = httpx.Client(
                base_url=url, timeout=30, headers={"Authorization": secret, "Content-Type": "application/json"}
            )
            healthz(client, 50)  # warm-up
            baseline_before = healthz(client, 200)
            # A warm-up swap, by a whale nobody follows, so that first imports and connections are not measured.
            quiet = TrackedWallet.objects.create(address=address("bench alerts warm-up"), label="warm-up")
            client.post(
                "/hooks/helius/",
                content=json.dumps(
                    [usdc_swap(quiet.address, address("warm-up token"), "buy", "1", "5000", int(time.time()))]
                ),
            )
            connections.close_all()
            time.sleep(1)

            posted: dict[str, tuple[float, set[int]]] = {}  # token mint → (POST start, chats expected)
            run_start = time.time()
            for n in range(args.swaps):
                whale = wallets[n % len(wallets)]
                mint = address(f"bench alerts token {os.getpid()} {n}")
                body = json.dumps(
                    [
                        usdc_swap(
                            whale.address,
                            mint,
                            "buy",
                            "1000",
                            "25000",
                            int(time.time()) - 1,
                            seed=f"bench-alerts-{os.getpid()}-{n}",
                        )
                    ]
                )
                started = time.time()
                answer = client.post("/hooks/helius/", content=body)
                if answer.status_code != 200:
                    raise SystemExit(f"webhook answered {answer.status_code}: {answer.text[:200]}")
                posted[mint] = (started, set(listeners[whale.id]))
                time.sleep(args.gap_ms / 1000)

            deadline = time.monotonic() + 60
            while (
                time.monotonic() < deadline
                and len(telegram.messaging.messages("telegram", run_start)) < expected_alerts
            ):
                time.sleep(0.2)
            time.sleep(1)  # late duplicates, were there any
            received = telegram.messaging.messages("telegram", run_start)
            latencies: list[float] = []
            seen: Counter[tuple[str, int]] = Counter()
            for message in received:
                mint = next((m for m in posted if m in message["text"]), None)
                if mint is None:
                    continue
                seen[(mint, message["chat_id"])] += 1
                if seen[(mint, message["chat_id"])] == 1:
                    latencies.append((message["at"] - posted[mint][0]) * 1000)
            expected = {(mint, chat) for mint, (_, chats) in posted.items() for chat in chats}
            lost = len(expected - set(seen))
            duplicates = sum(count - 1 for count in seen.values() if count > 1)
            unexpected = len(set(seen) - expected)
            baseline_after = healthz(client, 200)
            baseline = baseline_before + baseline_after

            rows = list(
                Delivery.objects.filter(status="sent", kind="swap").values_list(
                    "ingested_at", "queued_at", "sent_at", "answered_at"
                )
            )
            split = {
                "ingested → queued": [(q - i).total_seconds() * 1000 for i, q, s, a in rows],
                "queued → sent": [(s - q).total_seconds() * 1000 for i, q, s, a in rows],
                "sent → answered": [(a - s).total_seconds() * 1000 for i, q, s, a in rows],
            }
            statuses = Counter(Delivery.objects.values_list("status", flat=True))
            print()
            print(
                f"alerts    {len(latencies)} of {expected_alerts} received once; lost {lost}; duplicates {duplicates}; "
                f"unexpected {unexpected}; deliveries by status {dict(statuses)}"
            )
            print(f"latency   webhook POST start → Telegram sendMessage received: {ms(latencies)}")
            for name, values in split.items():
                if values:
                    print(f"  server  {name:18} {ms(values)}")
            print(f"/healthz  same Daphne, sequential, 400 GETs: {ms(baseline)}")
            p95 = percentile(latencies, 0.95)
            print(
                f"ratio     alert p95 / healthz p50 = {p95 / percentile(baseline, 0.5):.0f}×; "
                f"target p95 < 250 ms: {'met' if p95 < 250 else 'NOT met'} ({p95:.0f} ms); "
                f"messages lost = {lost}"
            )
            client.close()
            failed = False
        finally:
            for process in processes:
                stop(process)
            if failed:
                print(
                    "\nlog, last lines:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:]),
                    file=sys.stderr,
                )
            else:
                log.unlink(missing_ok=True)
            if not args.keep:
                database.drop_bench_database(SOURCE_DATABASE_URL, BENCH_DATABASE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
