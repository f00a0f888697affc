"""bench/live's servers: Daphne processes, the Celery worker that books deliveries, and the
webhook client that posts swaps to them.

Imported by bench/live.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from tests.conftest import LiveServer
from whales.models import Swap

REPO_DIR = Path(__file__).resolve().parent.parent


class DaphneServer(LiveServer):
    """Daphne serving aura.asgi in its own process, as the live-server tests start it, logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        super().__init__(env, log_path=log_path)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) Daphne's process has used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_bookings(seconds: float) -> str:
    """Wait until every swap is in the books (the worker keeps up) and say how it went."""
    deadline = time.monotonic() + seconds
    while True:
        waiting = Swap.objects.filter(in_books=False, usd_price__isnull=False).count()
        total = Swap.objects.count()
        if waiting == 0 or time.monotonic() > deadline:
            return f"{total - waiting:,} of {total:,} swaps in the books"
        time.sleep(0.2)


class CeleryWorker:
    """A Celery worker process booking the webhook's trades (whales.tasks.book_trades)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "aura",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    env["CELERY_QUEUE"],
                    "--loglevel=warning",
                ],
                cwd=REPO_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def daphne_env(webhook_secret: str, served: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=settings.REDIS_URL,
        HELIUS_WEBHOOK_SECRET=webhook_secret,
        DEBUG="false" if served else "true",
    )
    env.setdefault("DATABASE_POOL_SIZE", "10")  # as the Procfiles run the web process
    if served:
        # Sessions made here are checked there: the same SECRET_KEY. Plain http on 127.0.0.1.
        env.update(SECRET_KEY=settings.SECRET_KEY, ALLOWED_HOSTS="127.0.0.1,localhost", SECURE_SSL_REDIRECT="false")
    return env


class Webhook:
    """Helius's side of `/hooks/helius/`: one keep-alive connection; bodies are encoded before timing."""

    def __init__(self, server: DaphneServer, secret: str) -> None:
        self.client = httpx.Client(
            base_url=server.url, headers={"Authorization": secret, "Content-Type": "application/json"}, timeout=30
        )

    def post(self, transactions: list[dict[str, Any]]) -> tuple[float, float, dict[str, Any]]:
        """(POST start, response end) as epoch ms, and the answer."""
        body = json.dumps(transactions).encode()
        posted_ms = time.time() * 1000
        response = self.client.post("/hooks/helius/", content=body)
        answered_ms = time.time() * 1000
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:200]}")
        return posted_ms, answered_ms, response.json()

    def post_swap(self, transaction: dict[str, Any]) -> tuple[float, float, int]:
        """POST one swap; (POST start, response end, the stored swap's id)."""
        posted_ms, answered_ms, answer = self.post([transaction])
        if answer["new_swaps"] != 1:
            raise RuntimeError(f"webhook stored {answer['new_swaps']} swaps, not 1: {answer}")
        swap_id = Swap.objects.values_list("id", flat=True).get(signature=transaction["signature"])
        return posted_ms, answered_ms, swap_id

    def close(self) -> None:
        self.client.close()


def raise_open_file_limit(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards `wanted` (children inherit it); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft
